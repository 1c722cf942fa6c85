import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLError } from 'graphql';
import type { AppConfig } from './config/app-config';
import { resolveAuthSecret } from './auth/install-secret';
import { TokenService } from './auth/token.service';
import { createOrm, migrateToLatest } from './db/orm';
import { startEmbeddedPostgres, EmbeddedPostgres } from './db/embedded-postgres';
import { AnalysisJobService } from './domain/analysis/analysis-job.service';
import { AnalysisService } from './domain/analysis/analysis.service';
import { CorrectionService } from './domain/correction/correction.service';
import { QualityService } from './domain/correction/quality.service';
import { RetrainingArea } from './domain/correction/retraining-area';
import { RetrainingService } from './domain/training-run/retraining.service';
import { RayTrainerRunner } from './training/ray-trainer-runner';
import { LocalTrainerRunner } from './training/trainer-runner';
import { ImageService } from './domain/image/image.service';
import { ModelLineageService } from './domain/model-version/model-lineage.service';
import { ModelRegistryService, registryServingSource } from './domain/model-version/model-registry.service';
import { ModelRolloutService } from './domain/model-version/model-rollout.service';
import { ModelServing } from './domain/model-version/model-serving';
import { DicomIngestService } from './domain/pacs/dicom-ingest.service';
import { ResultExportService } from './domain/pacs/result-export.service';
import { createNoteGenerator } from './llm/create-note-generator';
import type { NoteGenerator } from './domain/note/note-generator';
import { NoteService } from './domain/note/note.service';
import { DriftService } from './domain/drift/drift.service';
import { MonitoringService } from './domain/monitoring/monitoring.service';
import { WorkerDriftDetector } from './monitoring/drift/worker-drift-detector';
import { PatientService } from './domain/patient/patient.service';
import { ReadService } from './domain/read/read.service';
import { RecordsService } from './domain/shared/records.service';
import type { EventPublisher } from './domain/shared/event-publisher';
import { createRequestContext } from './domain/shared/request-context';
import { StudyService } from './domain/study/study.service';
import { SiteService } from './domain/site/site.service';
import { heldVersions } from './domain/site/site-serving';
import { SiteValidationService } from './domain/site/site-validation.service';
import { Role } from './domain/enums';
import { UserService } from './domain/user/user.service';
import { AuditBatchWriter } from './domain/audit/audit-batch-writer';
import { createFormatError } from './errors/format-error';
import { Admission } from './http/admission';
import { SubscriptionFanOut } from './http/subscription-fan-out';
import { createGraphQLHandler } from './http/graphql-server';
import { dashboardAssets } from './http/dashboard';
import { isLoopback, startHttpServer, RunningServer } from './http/http-server';
import { RateLimiter } from './http/rate-limiter';
import { dicomWebRoutes, fhirRoutes, imageRoutes, predictionRoutes } from './http/routes';
import { DecodePool } from './inference/decode-pool';
import { DicomWebClient, HttpDicomWebClient } from './interop/dicomweb.client';
import { DynamicBatchingEngine } from './inference/dynamic-batching.engine';
import { ImagePreparer, InlineImagePreparer } from './inference/image-preparer';
import type { InferenceEngine } from './inference/inference-engine';
import { OnnxSessionFactory } from './inference/onnx/onnx-session.factory';
import { WorkerSessionFactory } from './inference/onnx/worker-session.factory';
import { PgBossJobQueue } from './jobs/pg-boss.job-queue';
import { createLogger, Logger } from './logging/logger';
import { Metrics } from './monitoring/metrics';
import { createDicomIngestMetrics } from './monitoring/dicom-metrics';
import { createDriftMetrics } from './monitoring/drift-metrics';
import { createNoteMetrics } from './monitoring/note-metrics';
import { registerQualityMetrics } from './monitoring/quality-metrics';
import { createSubscriptionMetrics } from './monitoring/subscription-metrics';
import { checkReadiness } from './monitoring/readiness';
import { createAppPubSub } from './pubsub/pubsub';
import { Topic } from './domain/shared/events';
import { AdminResolver } from './resolvers/admin.resolver';
import { AnalysisResolver } from './resolvers/analysis.resolver';
import { CorrectionResolver } from './resolvers/correction.resolver';
import { eventContext, GraphQLContext } from './resolvers/context';
import { ImageResolver } from './resolvers/image.resolver';
import { ModelRegistryResolver } from './resolvers/model-registry.resolver';
import { PacsResolver } from './resolvers/pacs.resolver';
import { NoteResolver } from './resolvers/note.resolver';
import { MonitoringResolver } from './resolvers/monitoring.resolver';
import { PatientResolver } from './resolvers/patient.resolver';
import { PredictionInputResolver, PredictionResolver } from './resolvers/prediction.resolver';
import { ReadResolver } from './resolvers/read.resolver';
import { RetrainingResolver } from './resolvers/retraining.resolver';
import { SiteOperatingPointResolver, SiteResolver } from './resolvers/site.resolver';
import { StudyResolver } from './resolvers/study.resolver';
import { buildAppSchema } from './schema/build-schema';
import { createObjectStore, ObjectStore } from './storage';

/** Replaceable parts, for tests. */
export interface AppOverrides {
  logger?: Logger;
  objectStore?: ObjectStore;
  /** Receives every SQL statement (query-count tests). */
  onQuery?: (sql: string) => void;
  /** Inference engine (default: dynamic batching over onnxruntime-node). */
  engine?: InferenceEngine;
  /** Image decoding for analysis (default: inline). */
  preparer?: ImagePreparer;
  /** DICOMweb client of the PACS (default: HTTP client from PACS_* configuration, or none). */
  dicomWeb?: DicomWebClient | null;
  /** Note backend (default: the one NOTE_BACKEND configures). */
  noteGenerator?: NoteGenerator;
}

/** A running application: the server plus handles tests and scripts use. */
export interface App {
  config: AppConfig;
  orm: MikroORM;
  url: string;
  port: number;
  logger: Logger;
  tokens: TokenService;
  users: UserService;
  objectStore: ObjectStore;
  engine: InferenceEngine;
  /** The analysis service (benchmarks compare it with the same request over HTTP). */
  analysis: AnalysisService;
  /** Batch analysis jobs (tests replay a queue delivery through it). */
  jobs: AnalysisJobService;
  /** Radiograph intake (tests run the sweep of uploads never attached). */
  images: ImageService;
  /** The event publisher every service uses (tests raise an event a subscription must deliver). */
  events: EventPublisher;
  metrics: Metrics;
  /** The retraining loop (tests drive recovery through it). */
  retraining: RetrainingService;
  /** Subscription delivery and its audit writer (tests wait for deliveries and their audit rows). */
  subscriptions: { fanOut: SubscriptionFanOut; audit: AuditBatchWriter };
  /** Token of the bootstrap admin, when this start created one (embedded first start). */
  bootstrapAdminToken: string | null;
  close(): Promise<void>;
}

/**
 * Composition root: builds database, storage, PubSub, services, schema and the server, wires them,
 * and returns one handle that closes them in order.
 */
export async function createApp(config: AppConfig, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const fn of closers.reverse())
      await fn().catch((e: Error) => logger.warn({ err: e.message }, 'shutdown step failed'));
  };
  try {
    let embedded: EmbeddedPostgres | null = null;
    if (!config.database.url) {
      embedded = await startEmbeddedPostgres(config.database.embeddedDir);
      closers.push(() => embedded!.stop());
      logger.info(
        { dir: config.database.embeddedDir },
        'using embedded PostgreSQL (PGlite); set DATABASE_URL for production',
      );
    }
    const databaseUrl = config.database.url ?? embedded!.url;
    const orm = await createOrm({
      url: databaseUrl,
      poolMax: embedded ? 4 : config.database.poolMax,
      onQuery: overrides.onQuery,
    });
    closers.push(() => orm.close(true));
    const applied = await migrateToLatest(orm);
    if (applied.length) logger.info({ applied }, 'migrations applied');

    const objectStore = overrides.objectStore ?? (await createObjectStore(config.storage));
    const pubsub = await createAppPubSub(config.pubsubDriver, databaseUrl, logger);
    closers.push(() => pubsub.close());
    const events = {
      publish: (topic: string, payload: Record<string, unknown>) => pubsub.pubSub.publish(topic, payload),
    };

    const metrics = new Metrics({}, { collectTimeoutMs: config.monitoring.healthCheckTimeoutMs });
    const authSecret = resolveAuthSecret(config.auth);
    const tokens = new TokenService(
      authSecret,
      config.auth.issuer,
      config.auth.tokenTtlSeconds,
      config.auth.audience,
    );
    const pageMax = config.limits.pageMax;
    const users = new UserService(orm.em, tokens, pageMax, config.auth.principalCacheMs, events);
    // Deactivation in any process drops the cached principal here too.
    const userChanges = pubsub.pubSub.subscribe(Topic.USER_CHANGED) as AsyncIterableIterator<{
      userId: string;
    }>;
    void (async () => {
      for await (const change of userChanges) users.evict(change.userId);
    })().catch((e: Error) => logger.error({ err: e.message }, 'user change listener stopped'));
    closers.push(async () => void (await userChanges.return?.()));
    const patients = new PatientService(pageMax);
    const studies = new StudyService(pageMax, events);
    const records = new RecordsService(pageMax);

    const engine =
      overrides.engine ??
      new DynamicBatchingEngine({
        sessionFactory:
          config.inference.sessionThread === 'worker'
            ? new WorkerSessionFactory({ log: logger })
            : new OnnxSessionFactory(logger),
        executionProviders: config.inference.executionProviders,
        maxBatchSize: config.inference.maxBatchSize,
        maxQueueDelayMs: config.inference.maxQueueDelayMs,
        maxQueueSize: config.inference.maxQueueSize,
        maxPredictedWaitMs: config.inference.maxPredictedWaitMs,
        intraOpThreads: config.inference.intraOpThreads || undefined,
        instances: config.inference.instances,
        log: logger,
        observer: metrics.inference,
      });
    closers.push(() => engine.close());
    metrics.watchEngine(engine);
    // Versions a site is held on by its rollout gate stay loaded beside PRODUCTION and CANARY.
    const serving = new ModelServing(registryServingSource(orm.em, heldVersions), engine, logger);
    await new ModelRegistryService(orm.em, serving, config.modelsDir, logger).syncRepository();
    serving.start(pubsub.pubSub, config.modelReconcileIntervalMs);
    closers.push(() => serving.stop());
    const imageLimits = { maxBytes: config.limits.maxUploadBytes, maxPixels: config.limits.maxImagePixels };
    const preparer =
      overrides.preparer ??
      (config.inference.decodeWorkers === 0
        ? new InlineImagePreparer(imageLimits)
        : new DecodePool({ limits: imageLimits, size: config.inference.decodeWorkers ?? undefined }));
    closers.push(() => preparer.close());
    // Uploads are decoded by the same pool as analyses: off the event loop, a bounded number at once.
    const images = new ImageService(objectStore, orm.em, config.limits, pageMax, events, preparer, {
      patientIdIssuer: config.dicom.patientIdIssuer,
      uploadRetentionSeconds: config.limits.uploadRetentionSeconds,
    });
    if (config.limits.uploadSweepIntervalSeconds > 0) {
      const sweep = setInterval(() => {
        images
          .sweepUnattached()
          .then((n) => n && logger.info({ removed: n }, 'uploads never attached removed'))
          .catch((e: Error) => logger.warn({ err: e.message }, 'sweeping uploads failed'));
      }, config.limits.uploadSweepIntervalSeconds * 1000);
      sweep.unref();
      closers.push(async () => clearInterval(sweep));
    }
    const drift = new DriftService(
      orm.em,
      events,
      { ...config.drift, modelsDir: config.modelsDir },
      logger,
      createDriftMetrics(metrics.registry),
      undefined,
      new WorkerDriftDetector(),
    );
    drift.start();
    closers.push(() => drift.close());
    // The one batch writer of audit rows: subscription deliveries. analyzeStudy's ANALYZE row is written in the
    // reading's own transaction (no sink passed): an analysis that committed is never left unaudited.
    const deliveryAudit = new AuditBatchWriter(
      orm.em,
      { flushMs: config.subscriptions.auditFlushMs },
      logger,
    );
    closers.push(() => deliveryAudit.close());
    const analysis = new AnalysisService(
      orm.em,
      objectStore,
      engine,
      preparer,
      events,
      config.analysis,
      logger,
      serving,
      metrics.analysis,
      drift,
    );
    const jobQueue = await PgBossJobQueue.start(databaseUrl, logger, {
      maintenanceIntervalSeconds: config.jobs.maintenanceIntervalSeconds,
    });
    closers.push(() => jobQueue.stop());
    const jobs = new AnalysisJobService(orm.em, jobQueue, analysis, events, logger, {
      expireInSeconds: config.analysis.jobExpireSeconds,
    });
    if (config.analysis.workers > 0) await jobs.startWorkers(config.analysis.workers);
    const sites = new SiteService();
    const siteValidation = new SiteValidationService(
      orm.em,
      jobQueue,
      analysis,
      events,
      logger,
      {
        resamples: config.siteValidation.resamples,
        expireInSeconds: config.siteValidation.jobExpireSeconds,
      },
      () => serving.reconcile(),
    );
    if (config.siteValidation.workers > 0) await siteValidation.startWorkers(config.siteValidation.workers);
    const rollout = new ModelRolloutService(orm.em, serving, events, logger, siteValidation);
    metrics.watchJobs(jobs, config.monitoring.healthCheckTimeoutMs);

    // Key of the pseudonyms and UID remapping of de-identified copies: derived from the server secret.
    const deidentificationKey = createHmac('sha256', authSecret).update('deidentification').digest('hex');
    const retrainingArea = new RetrainingArea(objectStore, deidentificationKey, imageLimits);
    const trainerRunner =
      config.retraining.runner === 'ray'
        ? new RayTrainerRunner({
            address: config.retraining.rayAddress!,
            python: config.retraining.rayPython,
          })
        : new LocalTrainerRunner();
    let retraining: RetrainingService | null = null;
    const corrections = new CorrectionService(
      orm.em,
      retrainingArea,
      logger,
      (task) => retraining?.onCorrection(task),
      siteValidation,
    );
    retraining = new RetrainingService(
      orm.em,
      jobQueue,
      trainerRunner,
      corrections,
      retrainingArea,
      {
        modelsDir: config.modelsDir,
        sharedDir: config.sharedDir,
        workDir: config.retraining.workDir,
        autoMinCorrections: config.retraining.autoMinCorrections,
        smoke: config.retraining.smoke,
        epochs: config.retraining.epochs,
        timeBudgetMin: config.retraining.timeBudgetMin,
        baseFraction: config.retraining.baseFraction,
        jobExpireSeconds: config.retraining.jobExpireSeconds,
        gate: config.retraining.gate,
        imageLimits,
      },
      logger,
    );
    if (config.retraining.workers > 0) await retraining.startWorkers(config.retraining.workers);
    const retrainingRef = retraining;
    closers.push(async () => retrainingRef.close());
    const reads = new ReadService(corrections, events);
    const quality = new QualityService(orm.em);
    registerQualityMetrics(metrics.registry, quality);

    const dicomWeb =
      overrides.dicomWeb !== undefined
        ? overrides.dicomWeb
        : config.pacs
          ? new HttpDicomWebClient(config.pacs)
          : null;
    const dicomIngest = new DicomIngestService(
      images,
      dicomWeb,
      events,
      logger,
      { maxPixels: config.limits.maxImagePixels, stowMaxInstances: config.dicom.stowMaxInstances },
      createDicomIngestMetrics(metrics.registry),
    );
    const resultExport = new ResultExportService(dicomWeb, {
      uidRoot: config.dicom.uidRoot,
      manufacturer: 'Care Companion',
    });
    const notes = new NoteService(
      overrides.noteGenerator ?? createNoteGenerator(config.notes),
      events,
      { timeoutMs: config.notes.timeoutMs, readability: config.notes.readability },
      logger,
      createNoteMetrics(metrics.registry),
    );
    closers.push(() => notes.close());

    const resolvers = new Map<unknown, unknown>([
      [PatientResolver, new PatientResolver(patients, studies)],
      [StudyResolver, new StudyResolver(studies, patients, images, records, reads)],
      [ImageResolver, new ImageResolver(images, studies)],
      [PredictionResolver, new PredictionResolver(records, studies, reads, siteValidation)],
      [PredictionInputResolver, new PredictionInputResolver(records)],
      [AnalysisResolver, new AnalysisResolver(analysis, jobs, records)],
      [AdminResolver, new AdminResolver(users, records)],
      [CorrectionResolver, new CorrectionResolver(corrections, quality)],
      [ModelRegistryResolver, new ModelRegistryResolver(rollout, new ModelLineageService())],
      [PacsResolver, new PacsResolver(dicomIngest, resultExport)],
      [NoteResolver, new NoteResolver(notes)],
      [MonitoringResolver, new MonitoringResolver(drift, new MonitoringService())],
      [RetrainingResolver, new RetrainingResolver(retraining)],
      [ReadResolver, new ReadResolver(reads)],
      [SiteResolver, new SiteResolver(sites, siteValidation)],
      [SiteOperatingPointResolver, new SiteOperatingPointResolver(siteValidation)],
    ]);
    const schema = await buildAppSchema({ get: (cls) => resolvers.get(cls) }, pubsub.pubSub);
    const admission = new Admission({
      authenticate: (token) => users.authenticate(token),
      authenticateCached: (token) => users.authenticateCached(token),
      rateLimiter: new RateLimiter(config.limits.rateLimitPerMinute),
      subscriptionsPerSocket: config.limits.subscriptionsPerSocket,
      subscriptionsPerUser: config.limits.subscriptionsPerUser,
      tokenExpiresAt: (token) => tokens.expiresAt(token),
      onUserChanged: (listener) => users.onUserChanged(listener),
    });
    const graphql = await createGraphQLHandler(
      schema,
      logger,
      {
        maxDepth: config.limits.graphqlMaxDepth,
        maxCost: config.limits.graphqlMaxCost,
        pageMax,
        maxBase64UploadBytes: config.limits.maxBase64UploadBytes,
        maxTokens: config.limits.graphqlMaxTokens,
      },
      { admission, observer: metrics.graphql },
    );
    closers.push(() => graphql.stop());
    const formatError = createFormatError(logger);
    const formatGraphQLError = (error: GraphQLError) =>
      formatError(error.toJSON(), error) as unknown as Record<string, unknown>;

    const createContext = (
      principal: GraphQLContext['principal'],
      requestId: string,
      signal?: AbortSignal,
    ): GraphQLContext => {
      // Object.assign, not a spread: the context's unit of work is made on first use (a getter).
      return Object.assign(createRequestContext(orm.em, principal, requestId, signal), {
        pubSub: pubsub.pubSub,
      });
    };

    // Subscription events: one execution per event and group of recipients, audited in batches.
    const fanOut: SubscriptionFanOut = new SubscriptionFanOut({
      listen: (topic, handler) => pubsub.listen(topic, handler),
      createEventContext: (requestId) => createRequestContext(orm.em, null, requestId),
      createGroupContext: (principal, shared) =>
        eventContext(shared, principal, shared.requestId, pubsub.pubSub),
      formatError: formatGraphQLError,
      audit: deliveryAudit,
      logger,
      observer: createSubscriptionMetrics(metrics.registry, {
        fanOut: { stats: () => fanOut.stats() },
        audit: deliveryAudit,
      }),
      limits: {
        slowConsumerBytes: config.subscriptions.slowConsumerBytes,
        executionConcurrency: config.subscriptions.executionConcurrency,
        maxQueuedEvents: config.subscriptions.maxQueuedEvents,
      },
    });
    closers.push(() => fanOut.close());

    const server: RunningServer = await startHttpServer(
      {
        schema,
        logger,
        admission,
        maxUploadBytes: config.limits.maxUploadBytes,
        limits: {
          headersTimeoutMs: config.http.headersTimeoutMs,
          maxConnections: config.http.maxConnections,
        },
        createContext,
        graphql,
        formatError: formatGraphQLError,
        subscriptions: { fanOut, authRecheckMs: config.subscriptions.authRecheckMs },
        staticAssets: dashboardAssets(),
        routes: [
          ...imageRoutes(images),
          ...predictionRoutes(analysis),
          ...dicomWebRoutes(dicomIngest, config.dicom.stowMaxBytes),
          ...fhirRoutes(resultExport),
        ],
        ready: () =>
          checkReadiness({
            database: () => orm.em.getConnection().execute('select 1'),
            objectStore: () => objectStore.health(),
            models: () => engine.health(),
            requiredTasks: config.monitoring.readyRequiredTasks,
            timeoutMs: config.monitoring.healthCheckTimeoutMs,
          }),
        metrics: {
          render: () => metrics.render(),
          contentType: metrics.contentType,
          token: config.monitoring.metricsToken,
        },
        observer: metrics.http,
      },
      config.http.host,
      config.http.port,
    );
    closers.push(() => server.close());

    let bootstrapAdminToken: string | null = null;
    if (config.env === 'development' && !(await users.hasAdmin())) {
      const { token } = await users.bootstrapAdmin('admin@localhost', Role.ADMIN);
      bootstrapAdminToken = token;
      const file = join(config.dataDir, 'bootstrap-admin.token');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      logger.info({ file }, 'created the first admin (admin@localhost); its token is in this file');
    }
    if (config.env !== 'production' && !isLoopback(config.http.host))
      logger.warn(
        { host: config.http.host },
        'listening beyond loopback outside production: other hosts can reach this API; set HOST=127.0.0.1 unless that is meant',
      );
    logger.info({ url: `${server.url}/graphql` }, 'Care Companion API ready');
    return {
      config,
      orm,
      url: server.url,
      port: server.port,
      logger,
      tokens,
      users,
      objectStore,
      engine,
      analysis,
      jobs,
      images,
      events,
      metrics,
      retraining,
      subscriptions: { fanOut, audit: deliveryAudit },
      bootstrapAdminToken,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

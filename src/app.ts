import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLError, GraphQLSchema } from 'graphql';
import type { AppConfig } from './config/app-config';
import { resolveAuthSecret } from './auth/install-secret';
import { TokenService } from './auth/token.service';
import { createOrm, migrateToLatest } from './db/orm';
import { startEmbeddedPostgres, EmbeddedPostgres } from './db/embedded-postgres';
import { AnalysisJobService } from './domain/analysis/analysis-job.service';
import { AnalysisService } from './domain/analysis/analysis.service';
import { CorrectionService } from './domain/correction/correction.service';
import { QualityService } from './domain/correction/quality.service';
import { RetrainingArea } from './domain/training-run/retraining-area';
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
import { DashboardOverviewService } from './domain/dashboard/dashboard-overview.service';
import { DriftService } from './domain/drift/drift.service';
import { WorkerDriftDetector } from './monitoring/drift-detection/worker-drift-detector';
import { PatientService } from './domain/patient/patient.service';
import { ReadService } from './domain/read/read.service';
import { PredictionService } from './domain/prediction/prediction.service';
import { CorrectionQueryService } from './domain/correction/correction-query.service';
import { NoteQueryService } from './domain/note/note-query.service';
import { ModelVersionQueryService } from './domain/model-version/model-version-query.service';
import { TrainingRunQueryService } from './domain/training-run/training-run-query.service';
import { DriftAlertQueryService } from './domain/drift/drift-alert-query.service';
import { AuditTrailService } from './domain/audit/audit-trail.service';
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
import { HttpDeps, isLoopback, startHttpServer, RunningServer } from './http/http-server';
import { RateLimiter } from './http/rate-limiter';
import { dicomWebRoutes, fhirRoutes, imageRoutes, predictionRoutes } from './http/routes';
import { HostCpuLoad } from './inference/batching/host-load';
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
import { buildAppSchema, resolverContainer } from './schema/build-schema';
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

/** Shutdown steps, run in reverse order when the app closes. */
type Closers = (() => Promise<void>)[];

/** What every builder gets: the configuration, the log, the test overrides and the shutdown steps. */
interface Scope {
  config: AppConfig;
  logger: Logger;
  overrides: AppOverrides;
  closers: Closers;
}

type Infrastructure = Awaited<ReturnType<typeof startInfrastructure>>;
type Inference = Awaited<ReturnType<typeof startInference>>;
type Services = Awaited<ReturnType<typeof startServices>>;

/**
 * Composition root: builds database, storage, PubSub, services, schema and the server, wires them,
 * and returns one handle that closes them in order.
 */
export async function createApp(config: AppConfig, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const closers: Closers = [];
  const close = async () => {
    for (const fn of closers.reverse())
      await fn().catch((e: Error) => logger.warn({ err: e.message }, 'shutdown step failed'));
  };
  try {
    const scope: Scope = { config, logger, overrides, closers };
    const infrastructure = await startInfrastructure(scope);
    const inference = await startInference({ ...scope, ...infrastructure });
    const services = await startServices({ ...scope, ...infrastructure, ...inference });
    const { server, fanOut } = await startApi({ ...scope, ...infrastructure, ...inference, ...services });
    const bootstrapAdminToken = await bootstrapFirstAdmin({ config, logger, users: services.users });
    if (config.env !== 'production' && !isLoopback(config.http.host))
      logger.warn(
        { host: config.http.host },
        'listening beyond loopback outside production: other hosts can reach this API; set HOST=127.0.0.1 unless that is meant',
      );
    logger.info({ url: `${server.url}/graphql` }, 'Care Companion API ready');
    return {
      config,
      orm: infrastructure.orm,
      url: server.url,
      port: server.port,
      logger,
      tokens: services.tokens,
      users: services.users,
      objectStore: infrastructure.objectStore,
      engine: inference.engine,
      analysis: services.analysis,
      jobs: services.jobs,
      images: services.images,
      events: infrastructure.events,
      metrics: infrastructure.metrics,
      retraining: services.retraining,
      subscriptions: { fanOut, audit: services.deliveryAudit },
      bootstrapAdminToken,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The database (DATABASE_URL, or embedded PGlite without one), migrated to the latest schema. */
async function startDatabase({ config, logger, overrides, closers }: Scope) {
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
  return { orm, databaseUrl };
}

/** Database, object store, PubSub (and the event publisher over it) and metrics. */
async function startInfrastructure(scope: Scope) {
  const { config, logger, overrides, closers } = scope;
  const { orm, databaseUrl } = await startDatabase(scope);
  const objectStore = overrides.objectStore ?? (await createObjectStore(config.storage));
  const pubsub = await createAppPubSub(config.pubsubDriver, databaseUrl, logger);
  closers.push(() => pubsub.close());
  const events: EventPublisher = {
    publish: (topic: string, payload: Record<string, unknown>) => pubsub.pubSub.publish(topic, payload),
    notification: pubsub.notification,
  };
  const metrics = new Metrics({}, { collectTimeoutMs: config.monitoring.healthCheckTimeoutMs });
  return { orm, databaseUrl, objectStore, pubsub, events, metrics };
}

/** The inference engine, the model versions it serves, and image decoding. */
async function startInference({
  config,
  logger,
  overrides,
  closers,
  orm,
  pubsub,
  metrics,
}: Scope & Infrastructure) {
  const engine = overrides.engine ?? createEngine({ config, logger, metrics });
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
  return { engine, serving, imageLimits, preparer };
}

/** Dynamic batching over onnxruntime-node sessions, on worker threads or the event loop. */
function createEngine({ config, logger, metrics }: { config: AppConfig; logger: Logger; metrics: Metrics }) {
  return new DynamicBatchingEngine({
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
    spinWait: config.inference.spinWait,
    precision: config.inference.precision,
    instances: config.inference.instances,
    hostLoad: new HostCpuLoad(config.inference.loneBatchMaxLoad),
    log: logger,
    observer: metrics.inference,
  });
}

/** Every service, with the workers and timers of those that have them. */
async function startServices(parts: Scope & Infrastructure & Inference) {
  const { config, orm, events, metrics } = parts;
  const authSecret = resolveAuthSecret(config.auth);
  const { tokens, users } = startAccess({ ...parts, authSecret });
  const pageMax = config.limits.pageMax;
  const patients = new PatientService(pageMax);
  const studies = new StudyService(pageMax, events);
  const predictions = new PredictionService(pageMax);
  const images = startImages(parts);
  const { drift, deliveryAudit, analysis } = startAnalysis({ ...parts, images });
  const { jobQueue, jobs, siteValidation } = await startJobs({ ...parts, analysis });
  const sites = new SiteService();
  const rollout = new ModelRolloutService(orm.em, parts.serving, events, parts.logger, siteValidation);
  metrics.watchJobs(jobs, config.monitoring.healthCheckTimeoutMs);
  const { corrections, retraining } = await startRetraining({
    ...parts,
    authSecret,
    jobQueue,
    siteValidation,
  });
  const reads = new ReadService(corrections, events);
  const quality = new QualityService(orm.em);
  registerQualityMetrics(metrics.registry, quality);
  const { dicomIngest, resultExport } = startPacs({ ...parts, images });
  const notes = startNotes(parts);
  return {
    tokens,
    users,
    patients,
    studies,
    predictions,
    images,
    drift,
    deliveryAudit,
    analysis,
    jobs,
    sites,
    siteValidation,
    rollout,
    corrections,
    retraining,
    reads,
    quality,
    dicomIngest,
    resultExport,
    notes,
  };
}

/** Tokens and users; a deactivation in any process drops the cached principal here too. */
function startAccess({
  config,
  logger,
  closers,
  orm,
  pubsub,
  events,
  authSecret,
}: Scope & Infrastructure & { authSecret: string }) {
  const tokens = new TokenService(
    authSecret,
    config.auth.issuer,
    config.auth.tokenTtlSeconds,
    config.auth.audience,
  );
  const users = new UserService(orm.em, tokens, config.limits.pageMax, config.auth.principalCacheMs, events);
  const userChanges = pubsub.pubSub.subscribe(Topic.USER_CHANGED) as AsyncIterableIterator<{
    userId: string;
  }>;
  void (async () => {
    for await (const change of userChanges) users.evict(change.userId);
  })().catch((e: Error) => logger.error({ err: e.message }, 'user change listener stopped'));
  closers.push(async () => void (await userChanges.return?.()));
  return { tokens, users };
}

/** Radiograph intake, and the periodic sweep of uploads never attached. */
function startImages({
  config,
  logger,
  closers,
  orm,
  objectStore,
  events,
  preparer,
}: Scope & Infrastructure & Inference) {
  // Uploads are decoded by the same pool as analyses: off the event loop, a bounded number at once.
  const images = new ImageService(
    objectStore,
    orm.em,
    config.limits,
    config.limits.pageMax,
    events,
    preparer,
    {
      patientIdIssuer: config.dicom.patientIdIssuer,
      uploadRetentionSeconds: config.limits.uploadRetentionSeconds,
    },
  );
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
  return images;
}

/** Drift monitoring, the audit writer of subscription deliveries, and the analysis service. */
function startAnalysis(parts: Scope & Infrastructure & Inference & { images: ImageService }) {
  const { config, logger, closers, orm, objectStore, events, metrics } = parts;
  const drift = new DriftService(
    orm.em,
    events,
    { ...config.drift, modelsDir: config.modelsDir },
    logger,
    createDriftMetrics(metrics.registry),
    () => new Date(),
    new WorkerDriftDetector(),
  );
  drift.start();
  closers.push(() => drift.close());
  // The one batch writer of audit rows: subscription deliveries. analyzeStudy's ANALYZE row is written in the
  // reading's own transaction (no sink passed): an analysis that committed is never left unaudited.
  const deliveryAudit = new AuditBatchWriter(orm.em, { flushMs: config.subscriptions.auditFlushMs }, logger);
  closers.push(() => deliveryAudit.close());
  const analysis = new AnalysisService(
    orm.em,
    objectStore,
    parts.engine,
    parts.preparer,
    events,
    config.analysis,
    logger,
    parts.serving,
    metrics.analysis,
    drift,
  );
  return { drift, deliveryAudit, analysis };
}

/** The job queue, batch analysis jobs and site evaluations, with this process's workers. */
async function startJobs(parts: Scope & Infrastructure & Inference & { analysis: AnalysisService }) {
  const { config, logger, closers, orm, events, analysis, serving } = parts;
  const jobQueue = await PgBossJobQueue.start(parts.databaseUrl, logger, {
    maintenanceIntervalSeconds: config.jobs.maintenanceIntervalSeconds,
  });
  closers.push(() => jobQueue.stop());
  const jobs = new AnalysisJobService(orm.em, jobQueue, analysis, events, logger, {
    expireInSeconds: config.analysis.jobExpireSeconds,
  });
  if (config.analysis.workers > 0) await jobs.startWorkers(config.analysis.workers);
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
  return { jobQueue, jobs, siteValidation };
}

/** Corrections and the retraining loop they feed, with this process's trainer workers. */
async function startRetraining(
  parts: Scope &
    Infrastructure &
    Inference & { authSecret: string; jobQueue: PgBossJobQueue; siteValidation: SiteValidationService },
) {
  const { config, logger, closers, orm, objectStore, imageLimits } = parts;
  // Key of the pseudonyms and UID remapping of de-identified copies: derived from the server secret.
  const deidentificationKey = createHmac('sha256', parts.authSecret).update('deidentification').digest('hex');
  const retrainingArea = new RetrainingArea(objectStore, deidentificationKey, imageLimits);
  let retraining: RetrainingService | null = null;
  const corrections = new CorrectionService(
    orm.em,
    retrainingArea,
    logger,
    (task) => retraining?.onCorrection(task),
    parts.siteValidation,
  );
  const { retraining: settings } = config;
  retraining = new RetrainingService(
    orm.em,
    parts.jobQueue,
    settings.runner === 'ray'
      ? new RayTrainerRunner({ address: settings.rayAddress!, python: settings.rayPython })
      : new LocalTrainerRunner(),
    corrections,
    retrainingArea,
    {
      modelsDir: config.modelsDir,
      sharedDir: config.sharedDir,
      workDir: settings.workDir,
      autoMinCorrections: settings.autoMinCorrections,
      smoke: settings.smoke,
      epochs: settings.epochs,
      timeBudgetMin: settings.timeBudgetMin,
      baseFraction: settings.baseFraction,
      jobExpireSeconds: settings.jobExpireSeconds,
      gate: settings.gate,
      imageLimits,
    },
    logger,
  );
  if (settings.workers > 0) await retraining.startWorkers(settings.workers);
  const started = retraining;
  closers.push(async () => started.close());
  return { corrections, retraining: started };
}

/** DICOM ingestion (STOW-RS, and retrieval from the configured PACS) and result export. */
function startPacs({
  config,
  logger,
  overrides,
  events,
  metrics,
  images,
}: Scope & Infrastructure & { images: ImageService }) {
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
  return { dicomIngest, resultExport };
}

/** Clinical note drafting with the configured backend. */
function startNotes({ config, logger, overrides, closers, events, metrics }: Scope & Infrastructure) {
  const notes = new NoteService(
    overrides.noteGenerator ?? createNoteGenerator(config.notes),
    events,
    { timeoutMs: config.notes.timeoutMs, readability: config.notes.readability },
    logger,
    createNoteMetrics(metrics.registry),
  );
  closers.push(() => notes.close());
  return notes;
}

type ApiParts = Scope & Infrastructure & Inference & Services;

/** Schema, GraphQL over HTTP, subscription delivery and the HTTP server. */
async function startApi(parts: ApiParts) {
  const { logger, closers, orm, pubsub } = parts;
  const schema = await buildSchema(parts);
  const { admission, graphql } = await startGraphQL(parts, schema);
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
  const fanOut = startFanOut(parts, formatGraphQLError);
  const server = await startServer(parts, {
    schema,
    admission,
    createContext,
    graphql,
    formatError: formatGraphQLError,
    subscriptions: { fanOut, authRecheckMs: parts.config.subscriptions.authRecheckMs },
  });
  closers.push(() => server.close());
  return { server, fanOut };
}

/** The GraphQL schema over one instance of each resolver (the classes are listed once, in RESOLVERS). */
function buildSchema(parts: ApiParts) {
  const { users, predictions, studies, patients, images, reads, siteValidation, analysis } = parts;
  const pageMax = parts.config.limits.pageMax;
  const resolvers = resolverContainer([
    new PatientResolver(patients, studies),
    new StudyResolver(studies, patients, images, predictions, reads),
    new ImageResolver(images, studies),
    new PredictionResolver(
      predictions,
      new CorrectionQueryService(pageMax),
      new NoteQueryService(pageMax),
      studies,
      reads,
      siteValidation,
    ),
    new PredictionInputResolver(predictions),
    new AnalysisResolver(analysis, parts.jobs, predictions),
    new AdminResolver(
      users,
      new ModelVersionQueryService(pageMax),
      new TrainingRunQueryService(pageMax),
      new DriftAlertQueryService(pageMax),
      new AuditTrailService(pageMax),
    ),
    new CorrectionResolver(parts.corrections, parts.quality),
    new ModelRegistryResolver(parts.rollout, new ModelLineageService()),
    new PacsResolver(parts.dicomIngest, parts.resultExport),
    new NoteResolver(parts.notes),
    new MonitoringResolver(parts.drift, new DashboardOverviewService()),
    new RetrainingResolver(parts.retraining),
    new ReadResolver(reads),
    new SiteResolver(parts.sites, siteValidation),
    new SiteOperatingPointResolver(siteValidation),
  ]);
  return buildAppSchema(resolvers, parts.pubsub.pubSub);
}

/** Admission (authentication, rate limit, subscription quotas) and the GraphQL-over-HTTP handler. */
async function startGraphQL(parts: ApiParts, schema: GraphQLSchema) {
  const { config, logger, closers, users, tokens, metrics } = parts;
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
      pageMax: config.limits.pageMax,
      maxBase64UploadBytes: config.limits.maxBase64UploadBytes,
      maxTokens: config.limits.graphqlMaxTokens,
    },
    { admission, observer: metrics.graphql },
  );
  closers.push(() => graphql.stop());
  return { admission, graphql };
}

/** Subscription events: one execution per event and group of recipients, audited in batches. */
function startFanOut(parts: ApiParts, formatError: (error: GraphQLError) => Record<string, unknown>) {
  const { config, logger, closers, orm, pubsub, metrics, deliveryAudit } = parts;
  const fanOut: SubscriptionFanOut = new SubscriptionFanOut({
    listen: (topic, handler) => pubsub.listen(topic, handler),
    createEventContext: (requestId) => createRequestContext(orm.em, null, requestId),
    createGroupContext: (principal, shared) =>
      eventContext(shared, principal, shared.requestId, pubsub.pubSub),
    formatError,
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
  return fanOut;
}

/** The one HTTP port: GraphQL (HTTP and WebSocket), the upload/download and DICOMweb/FHIR routes, probes and metrics. */
function startServer(
  parts: ApiParts,
  graphqlDeps: Pick<
    HttpDeps,
    'schema' | 'admission' | 'createContext' | 'graphql' | 'formatError' | 'subscriptions'
  >,
): Promise<RunningServer> {
  const { config, logger, orm, objectStore, engine, metrics } = parts;
  return startHttpServer(
    {
      ...graphqlDeps,
      logger,
      maxUploadBytes: config.limits.maxUploadBytes,
      limits: { headersTimeoutMs: config.http.headersTimeoutMs, maxConnections: config.http.maxConnections },
      staticAssets: dashboardAssets(),
      routes: [
        ...imageRoutes(parts.images),
        ...predictionRoutes(parts.analysis),
        ...dicomWebRoutes(parts.dicomIngest, config.dicom.stowMaxBytes),
        ...fhirRoutes(parts.resultExport),
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
}

/**
 * On the first development start, the first admin (admin@localhost): its token goes to
 * `<DATA_DIR>/bootstrap-admin.token` and is returned; null otherwise.
 */
async function bootstrapFirstAdmin({
  config,
  logger,
  users,
}: {
  config: AppConfig;
  logger: Logger;
  users: UserService;
}): Promise<string | null> {
  if (config.env !== 'development' || (await users.hasAdmin())) return null;
  const { token } = await users.bootstrapAdmin('admin@localhost', Role.ADMIN);
  const file = join(config.dataDir, 'bootstrap-admin.token');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  logger.info({ file }, 'created the first admin (admin@localhost); its token is in this file');
  return token;
}

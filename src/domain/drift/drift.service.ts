/**
 * The drift feature: samples accepted readings, runs checks on windows of them, stores the checks and
 * raises, audits and announces alerts. `domain/drift/` is the feature (samples, checks, alerts,
 * DriftService); the statistics it calls are `monitoring/drift-detection/` (detector, reference profiles).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { InvalidStateError, NotFoundError } from '../../errors';
import type { Logger } from '../../logging/logger';
import type { DriftObservation, DriftThresholds } from '../../monitoring/drift-detection/drift-detector';
import { DriftDetector, InlineDriftDetector } from '../../monitoring/drift-detection/worker-drift-detector';
import { loadReferenceProfile, ReferenceProfile } from '../../monitoring/drift-detection/reference-profile';
import { Topic } from '../shared/events';
import { AuditAction, DriftAlertStatus, DriftWindowKind } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import type { Prediction } from '../prediction/prediction.entity';
import { AdvisoryLockKey, tryLockForTransaction } from '../shared/advisory-lock';
import type { EventPublisher } from '../shared/event-publisher';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { DriftAlert } from './drift-alert.entity';
import { DriftCheck } from './drift-check.entity';
import { DriftSample } from './drift-sample.entity';

/**
 * Port through which drift results reach monitoring, so the service knows no metrics library (the
 * Prometheus adapter is `monitoring/drift-metrics.ts`). Labels are bounded: task, version, signal, window.
 */
export interface DriftObserver {
  /** A window was tested: the last statistic of one signal, and its p-value when the test has one. */
  tested(
    labels: { task: string; version: string; signal: string; window: string },
    value: number,
    pValue: number | null,
  ): void;
  /** An alert was raised (and committed) for one signal. */
  alertRaised(labels: { task: string; version: string; signal: string }): void;
}

/** Drift settings (from `AppConfig.drift`) plus where the reference profiles live. */
export interface DriftOptions {
  enabled: boolean;
  windowSize: number;
  timeWindowMinutes: number;
  minWindowSize: number;
  alpha: number;
  psiThreshold: number;
  permutations: number;
  sampleRetentionDays: number;
  modelsDir: string;
}

/** Payload of DRIFT_DETECTED (ids only). */
export interface DriftDetectedEvent {
  driftAlertId: string;
  modelVersionId: string;
  signal: string;
}

/** How a window was cut. */
export type WindowKind = DriftWindowKind;

/** Port the analysis service records through (kept small so analysis does not depend on drift internals). */
export interface DriftRecorder {
  /** Adds the drift record of a prediction to `em` (committed with the prediction). */
  record(em: EntityManager, prediction: Prediction, observation: DriftObservation): void;
  /** Called after the commit: checks whether a count window of these model versions is complete. */
  recorded(modelVersionIds: string[]): void;
}

const PERMUTATION_SEED = 20261123;

/** A recorded check and the alerts it raised. */
interface Evaluation {
  check: DriftCheck;
  alerts: DriftAlert[];
}

function toObservation(s: DriftSample): DriftObservation {
  const b = s.embedding;
  return {
    embedding: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
    confidence: s.confidence,
    predictedClass: s.predictedClass,
    intensityHistogram: s.intensityHistogram,
    width: s.width,
    height: s.height,
    bitsStored: s.bitsStored,
    format: s.format,
  };
}

/**
 * Drift monitoring: stores one compact record per accepted prediction, compares tumbling windows (every
 * `windowSize` accepted predictions, and every `timeWindowMinutes`) of each model version with its
 * reference profile, records every comparison as a {@link DriftCheck} (the time series the dashboard
 * draws), raises a {@link DriftAlert} per drifted signal and publishes DRIFT_DETECTED at once.
 * Evaluations of one model version run one at a time, and across processes under an advisory lock.
 */
export class DriftService implements DriftRecorder {
  private readonly profiles = new Map<string, ReferenceProfile | null>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Model versions with a count-window check queued that has not started yet. */
  private readonly queuedCountChecks = new Set<string>();
  /** Start of a time window that was too small to test, per model version (carried to the next tick). */
  private readonly pendingTimeStart = new Map<string, Date>();
  private timer: NodeJS.Timeout | null = null;
  private lastPrune = 0;

  constructor(
    private readonly rootEm: EntityManager,
    private readonly events: EventPublisher,
    private readonly options: DriftOptions,
    private readonly logger: Logger,
    /** Where test results and alerts are reported (Prometheus: `monitoring/drift-metrics.ts`). */
    private readonly observer?: DriftObserver,
    private readonly now: () => Date = () => new Date(),
    /** Where windows are tested (the app passes a worker-thread detector). */
    private readonly detector: DriftDetector = new InlineDriftDetector(),
  ) {}

  /** Thresholds the detector uses (also shown on the dashboard). */
  get thresholds(): DriftThresholds & {
    windowSize: number;
    timeWindowMinutes: number;
    minWindowSize: number;
  } {
    return {
      alpha: this.options.alpha,
      psiThreshold: this.options.psiThreshold,
      permutations: this.options.permutations,
      seed: PERMUTATION_SEED,
      windowSize: this.options.windowSize,
      timeWindowMinutes: this.options.timeWindowMinutes,
      minWindowSize: this.options.minWindowSize,
    };
  }

  /** Whether drift detection runs. */
  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Whether this version has a (valid) reference profile, so its windows are tested. */
  hasProfile(mv: ModelVersion): boolean {
    return this.profileOf(mv) !== null;
  }

  /** Starts the time-window timer (no-op when time windows are off). */
  start(): void {
    if (!this.options.enabled || this.options.timeWindowMinutes <= 0 || this.timer) return;
    const period = this.options.timeWindowMinutes * 60_000;
    this.timer = setInterval(() => void this.evaluateTimeWindows().catch((e: Error) => this.fail(e)), period);
    this.timer.unref();
  }

  /** Stops the timer and waits for running evaluations. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.chains.values()]);
    await this.detector.close();
  }

  record(em: EntityManager, prediction: Prediction, o: DriftObservation): void {
    if (!this.options.enabled || !prediction.modelVersion) return;
    const embedding = Float32Array.from(o.embedding);
    em.persist(
      em.create(DriftSample, {
        prediction,
        modelVersion: prediction.modelVersion,
        embedding: Buffer.from(embedding.buffer),
        confidence: o.confidence,
        predictedClass: o.predictedClass,
        intensityHistogram: o.intensityHistogram,
        width: o.width,
        height: o.height,
        bitsStored: o.bitsStored,
        format: o.format,
      } as DriftSample),
    );
  }

  recorded(modelVersionIds: string[]): void {
    if (!this.options.enabled) return;
    for (const id of new Set(modelVersionIds)) this.scheduleCountCheck(id);
    if (this.now().getTime() - this.lastPrune >= 3600_000) {
      this.lastPrune = this.now().getTime();
      void this.pruneSamples().catch((e: Error) => this.fail(e));
    }
  }

  /** Deletes drift samples older than the retention period; returns how many. Checks and alerts stay. */
  async pruneSamples(): Promise<number> {
    const before = new Date(this.now().getTime() - this.options.sampleRetentionDays * 86400_000);
    return this.rootEm.fork().getRepository(DriftSample).deleteTakenBefore(before);
  }

  /**
   * Queues one count-window check for a model version, unless one is queued and not started yet: that
   * one will see this sample too (its transaction committed before the announcement), so a burst of
   * predictions costs one check, not one per prediction. The check first counts the samples since the
   * last count window with one indexed query; only a complete window takes the lock and loads samples.
   */
  private scheduleCountCheck(modelVersionId: string): void {
    if (this.queuedCountChecks.has(modelVersionId)) return;
    this.queuedCountChecks.add(modelVersionId);
    void this.serialised(modelVersionId, async () => {
      this.queuedCountChecks.delete(modelVersionId);
      if (await this.countWindowComplete(modelVersionId)) await this.evaluateCountWindows(modelVersionId);
    });
  }

  /** True when at least one complete count window of samples waits after the last count window. */
  private countWindowComplete(modelVersionId: string): Promise<boolean> {
    return this.rootEm
      .fork()
      .getRepository(DriftSample)
      .countWindowComplete(modelVersionId, this.options.windowSize);
  }

  /** Runs `fn` after the previous evaluation of this model version; failures are logged, never thrown. */
  private serialised(modelVersionId: string, fn: () => Promise<unknown>): Promise<void> {
    const previous = this.chains.get(modelVersionId) ?? Promise.resolve();
    const next = previous.then(fn).then(
      () => undefined,
      (e: Error) => this.fail(e),
    );
    this.chains.set(modelVersionId, next);
    void next.then(() => {
      if (this.chains.get(modelVersionId) === next) this.chains.delete(modelVersionId);
    });
    return next;
  }

  private fail(error: Error): void {
    this.logger.error({ err: error.message, stack: error.stack }, 'drift evaluation failed');
  }

  private profileOf(mv: ModelVersion): ReferenceProfile | null {
    const key = `${mv.task}/${mv.version}`;
    if (!this.profiles.has(key)) {
      let profile: ReferenceProfile | null = null;
      try {
        profile = loadReferenceProfile(this.options.modelsDir, mv.task, mv.version);
      } catch (error) {
        this.logger.warn(
          { key, err: (error as Error).message },
          'reference profile is invalid; drift off for it',
        );
      }
      if (!profile) this.logger.warn({ key }, 'no reference profile; drift is not checked for this version');
      this.profiles.set(key, profile);
    }
    return this.profiles.get(key)!;
  }

  /**
   * Tests every complete count window of a model version not tested yet (tumbling: the N accepted
   * predictions after the last count window). Returns the checks it recorded.
   */
  async evaluateCountWindows(modelVersionId: string): Promise<DriftCheck[]> {
    const done: DriftCheck[] = [];
    for (;;) {
      const evaluation = await this.withLock(modelVersionId, async (em, mv, profile) => {
        const last = await em.getRepository(DriftCheck).findLast(mv, DriftWindowKind.COUNT);
        const samples = await em
          .getRepository(DriftSample)
          .findAfter(mv, last?.windowEnd ?? null, this.options.windowSize);
        if (samples.length < this.options.windowSize) return null;
        return this.evaluate(em, mv, profile, DriftWindowKind.COUNT, samples);
      });
      if (!evaluation) return done;
      done.push(evaluation.check);
    }
  }

  /**
   * Tests the time window of every model version with samples in the last period: the accepted
   * predictions since the end of its last time window (the first one starts one period back), when
   * there are at least `minWindowSize`; otherwise the window grows until the next tick.
   */
  async evaluateTimeWindows(): Promise<DriftCheck[]> {
    const end = this.now();
    const since = new Date(end.getTime() - this.options.timeWindowMinutes * 60_000);
    const sampled = await this.rootEm.fork().getRepository(DriftSample).findVersionIdsSampledSince(since);
    const checks: DriftCheck[] = [];
    for (const id of sampled) {
      await this.serialised(id, async () => {
        const evaluation = await this.withLock(id, async (em, mv, profile) => {
          const last = await em.getRepository(DriftCheck).findLast(mv, DriftWindowKind.TIME);
          // Since the end of the last time window; a window too small to test carries over to the next tick.
          const start = last?.windowEnd ?? this.pendingTimeStart.get(id) ?? since;
          const samples = await em.getRepository(DriftSample).findInWindow(mv, start, end);
          if (samples.length < this.options.minWindowSize) {
            this.pendingTimeStart.set(id, start);
            return null;
          }
          this.pendingTimeStart.delete(id);
          return this.evaluate(em, mv, profile, DriftWindowKind.TIME, samples, start, end);
        });
        if (evaluation) checks.push(evaluation.check);
      });
    }
    return checks;
  }

  /** Runs `fn` in a transaction holding this model version's advisory lock; null when another holds it. */
  private async withLock(
    modelVersionId: string,
    fn: (em: EntityManager, mv: ModelVersion, profile: ReferenceProfile) => Promise<Evaluation | null>,
  ): Promise<Evaluation | null> {
    const fresh = this.rootEm.fork();
    const mv = await fresh.getRepository(ModelVersion).findOne({ id: modelVersionId });
    const profile = mv ? this.profileOf(mv) : null;
    if (!mv || !profile) return null;
    const result = await fresh.transactional(async (em) => {
      const key = AdvisoryLockKey.hashtext(`drift:${modelVersionId}`);
      if (!(await tryLockForTransaction(em, key))) return null;
      return fn(em, mv, profile);
    });
    for (const alert of result?.alerts ?? []) {
      this.observer?.alertRaised({ task: mv.task, version: mv.version, signal: alert.signal });
      this.events.publish(Topic.DRIFT_DETECTED, {
        driftAlertId: alert.id,
        modelVersionId: mv.id,
        signal: alert.signal,
      } satisfies DriftDetectedEvent as unknown as Record<string, unknown>);
    }
    return result;
  }

  private async evaluate(
    em: EntityManager,
    mv: ModelVersion,
    profile: ReferenceProfile,
    kind: WindowKind,
    samples: DriftSample[],
    start = samples[0]!.createdAt,
    end = samples[samples.length - 1]!.createdAt,
  ): Promise<Evaluation> {
    const results = await this.detector.detect(
      `${mv.task}/${mv.version}`,
      profile,
      samples.map(toObservation),
      this.thresholds,
    );
    const check = em.create(DriftCheck, {
      modelVersion: mv,
      windowKind: kind,
      windowStart: start,
      windowEnd: end,
      windowSize: samples.length,
      signals: results.map((r) => ({ ...r })),
      drifted: results.some((r) => r.drifted),
    } as DriftCheck);
    em.persist(check);
    const alerts: DriftAlert[] = [];
    for (const r of results) {
      const labels = { task: mv.task, version: mv.version, signal: r.signal, window: kind };
      this.observer?.tested(labels, r.value, r.pValue);
      if (!r.drifted) continue;
      const alert = em.create(DriftAlert, {
        modelVersion: mv,
        signal: r.signal,
        statistic: r.statistic,
        value: r.value,
        pValue: r.pValue,
        threshold: r.threshold,
        windowStart: start,
        windowEnd: end,
        windowSize: samples.length,
        windowKind: kind,
        status: DriftAlertStatus.OPEN,
      } as DriftAlert);
      em.persist(alert);
      alerts.push(alert);
    }
    if (check.drifted)
      this.logger.warn(
        {
          modelVersion: `${mv.task}/${mv.version}`,
          kind,
          signals: results.filter((r) => r.drifted).map((r) => r.signal),
        },
        'drift detected',
      );
    return { check, alerts };
  }

  /** Drift checks (the per-signal time series), oldest first. */
  async checks(
    ctx: RequestContext,
    filter: {
      modelVersionId?: string | null;
      windowKind?: WindowKind | null;
      since?: Date | null;
      limit: number;
    },
  ): Promise<DriftCheck[]> {
    assertPermission(ctx.principal, Permission.READ_MONITORING);
    if (filter.modelVersionId && !isUuid(filter.modelVersionId)) return [];
    const rows = await ctx.em.getRepository(DriftCheck).findLatest(filter);
    return rows.reverse();
  }

  /** One alert. */
  async alert(ctx: RequestContext, id: string): Promise<DriftAlert> {
    assertPermission(ctx.principal, Permission.READ_MONITORING);
    const alert = isUuid(id) ? await ctx.em.getRepository(DriftAlert).findOne({ id }) : null;
    if (!alert) throw NotFoundError.of('DriftAlert', id);
    return alert;
  }

  /** Acknowledges (OPEN → ACKNOWLEDGED) or resolves (OPEN/ACKNOWLEDGED → RESOLVED) an alert; audited. */
  async setStatus(ctx: RequestContext, id: string, status: DriftAlertStatus): Promise<DriftAlert> {
    assertPermission(ctx.principal, Permission.TRIAGE_DRIFT_ALERTS);
    const alert = isUuid(id) ? await ctx.em.getRepository(DriftAlert).findOne({ id }) : null;
    if (!alert) throw NotFoundError.of('DriftAlert', id);
    const allowed =
      (status === DriftAlertStatus.ACKNOWLEDGED && alert.status === DriftAlertStatus.OPEN) ||
      (status === DriftAlertStatus.RESOLVED && alert.status !== DriftAlertStatus.RESOLVED);
    if (!allowed)
      throw new InvalidStateError(`A ${alert.status} alert cannot become ${status}`, {
        driftAlertId: id,
        from: alert.status,
        to: status,
      });
    alert.status = status;
    ctx.audit.write(ctx.em, { action: AuditAction.UPDATE, entityType: 'DriftAlert', entityId: alert.id });
    await ctx.em.flush();
    return alert;
  }
}

import type { InferenceEngine } from '../../inference/inference-engine';
import type { Logger } from '../../logging/logger';
import { Topic } from '../shared/events';
import { ModelStage, ModelStageChangeKind } from '../enums';
import type { EventSubscriber } from '../shared/event-publisher';

/** A version the registry serves (PRODUCTION or CANARY) and where its files are. */
export interface ServingVersion {
  task: string;
  version: string;
  stage: ModelStage;
  artifactPath: string;
}

/** Port to the registry: the versions that should be loaded now. */
export interface ServingSource {
  servingVersions(): Promise<ServingVersion[]>;
}

/** Held while a request uses a model version; the version is not unloaded until every lease is released. */
export interface ModelLease {
  release(): void;
}

/** What the analysis path needs from serving: a loaded version it may use until it lets go. */
export interface ModelLeases {
  /** Loads the version if this process has not (yet) and holds it until the lease is released. */
  acquire(version: { task: string; version: string; artifactPath: string }): Promise<ModelLease>;
  /** Holds a version only if it is loaded and not draining; null otherwise (never loads). */
  tryAcquire(task: string, version: string): ModelLease | null;
}

/** Payload of MODEL_VERSION_CHANGED (ids and stages only). */
export interface ModelVersionChangedEvent {
  modelVersionId: string;
  task: string;
  version: string;
  stage: ModelStage;
  previousStage: ModelStage | null;
  kind: ModelStageChangeKind;
}

const keyOf = (task: string, version: string) => `${task}/${version}`;

/**
 * Keeps this process's inference engine in step with the registry, without a restart: on every
 * MODEL_VERSION_CHANGED event (PostgreSQL LISTEN/NOTIFY, so from any process), on a timer as a safety
 * net, and right after a local rollout, it loads the PRODUCTION and CANARY versions beside the running
 * ones, makes PRODUCTION the engine default, and unloads versions that no longer serve once no request
 * holds them (in-flight requests finish on the version they started with).
 *
 * The registry row is the truth and routing reads it per request, so a process may see a promotion
 * before its notification arrives: {@link acquire} then loads the version on demand.
 */
export class ModelServing implements ModelLeases {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly leases = new Map<string, number>();
  private readonly unloading = new Map<string, Promise<void>>();
  /** Versions the registry served at the last reconcile; null until the first one. */
  private serving: Set<string> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private subscription: AsyncIterator<unknown> | null = null;
  private closed = false;

  constructor(
    private readonly source: ServingSource,
    private readonly engine: InferenceEngine,
    private readonly logger: Logger,
  ) {}

  /** Follows registry events and, when `intervalMs` > 0, re-reads the registry on that period. */
  start(events: EventSubscriber, intervalMs: number): void {
    const iterable = events.subscribe(Topic.MODEL_VERSION_CHANGED) as AsyncIterable<ModelVersionChangedEvent>;
    const iterator = iterable[Symbol.asyncIterator]();
    this.subscription = iterator;
    void (async () => {
      for (;;) {
        const next = await iterator.next().catch((error: Error) => {
          this.logger.warn({ err: error.message }, 'model registry event stream failed');
          return { done: true, value: undefined };
        });
        if (next.done || this.closed) return;
        const event = next.value as ModelVersionChangedEvent;
        this.logger.info(
          { task: event.task, version: event.version, stage: event.stage },
          'model registry changed; reconciling the engine',
        );
        void this.reconcileInBackground();
      }
    })();
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.reconcileInBackground(), intervalMs);
      this.timer.unref();
    }
  }

  /** Stops following events; loaded versions stay until the engine closes. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.subscription?.return?.();
    await this.chain.catch(() => undefined);
  }

  private reconcileInBackground(): Promise<void> {
    return this.reconcile().then(
      () => undefined,
      (error: Error) => this.logger.warn({ err: error.message }, 'could not re-read the model registry'),
    );
  }

  /** Loads what the registry serves, activates PRODUCTION, unloads what no longer serves. Serialised. */
  reconcile(): Promise<ServingVersion[]> {
    return this.serialised(async () => {
      const rows = await this.source.servingVersions();
      this.serving = new Set(rows.map((v) => keyOf(v.task.toLowerCase(), v.version)));
      for (const v of rows) {
        const task = v.task.toLowerCase();
        try {
          await this.load(task, v.version, v.artifactPath);
          if (v.stage === ModelStage.PRODUCTION && this.engine.activeVersion(task) !== v.version)
            this.engine.activate(task, v.version);
        } catch (error) {
          this.logger.error(
            { task, version: v.version, stage: v.stage, err: (error as Error).message },
            'a serving model version could not be loaded',
          );
        }
      }
      for (const h of this.engine.health()) this.retireIfIdle(h.task, h.version);
      return rows;
    });
  }

  async acquire(v: { task: string; version: string; artifactPath: string }): Promise<ModelLease> {
    const task = v.task.toLowerCase();
    const key = keyOf(task, v.version);
    this.hold(key);
    // Routing read the registry: a version it chose that this process does not serve means the
    // registry changed before its event arrived here; catch up in the background.
    if (this.serving && !this.serving.has(key)) void this.reconcileInBackground();
    try {
      if (!this.isLoaded(task, v.version))
        await this.serialised(() => this.load(task, v.version, v.artifactPath));
    } catch (error) {
      this.let(key);
      throw error;
    }
    return this.lease(key);
  }

  tryAcquire(task: string, version: string): ModelLease | null {
    if (!this.isLoaded(task, version)) return null;
    const key = keyOf(task, version);
    this.hold(key);
    return this.lease(key);
  }

  /** Loads a version (serialised with reconciles) so a rollout fails before it commits when the weights do not load. */
  preload(v: { task: string; version: string; artifactPath: string }): Promise<void> {
    return this.serialised(() => this.load(v.task.toLowerCase(), v.version, v.artifactPath));
  }

  private lease(key: string): ModelLease {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.let(key);
      },
    };
  }

  private hold(key: string): void {
    this.leases.set(key, (this.leases.get(key) ?? 0) + 1);
  }

  private let(key: string): void {
    const n = (this.leases.get(key) ?? 1) - 1;
    if (n > 0) this.leases.set(key, n);
    else {
      this.leases.delete(key);
      const [task, version] = key.split('/') as [string, string];
      // Queued behind any reconcile in progress, so it decides on the registry's latest state.
      void this.serialised(async () => this.retireIfIdle(task, version));
    }
  }

  private isLoaded(task: string, version: string): boolean {
    return this.engine.health().some((h) => h.task === task && h.version === version && !h.draining);
  }

  /** Loads unless loaded; waits for a drain of the same version to finish first. Call serialised. */
  private async load(task: string, version: string, dir: string): Promise<void> {
    const key = keyOf(task, version);
    const draining = this.unloading.get(key);
    if (draining) await draining;
    if (this.isLoaded(task, version)) return;
    await this.engine.loadVersion(task, version, dir, { activate: false });
  }

  /** Unloads a loaded version that no longer serves once no request holds it. */
  private retireIfIdle(task: string, version: string): void {
    const key = keyOf(task, version);
    if (!this.serving || this.serving.has(key) || this.leases.has(key) || this.unloading.has(key)) return;
    if (!this.isLoaded(task, version)) return;
    if (this.engine.activeVersion(task) === version && !this.hasServingVersion(task)) return;
    const unload = this.engine
      .unloadVersion(task, version)
      .then(() => this.logger.info({ task, version }, 'model version retired from this process'))
      .catch((error: Error) => this.logger.warn({ task, version, err: error.message }, 'unload failed'))
      .finally(() => this.unloading.delete(key));
    this.unloading.set(key, unload);
  }

  private hasServingVersion(task: string): boolean {
    return [...(this.serving ?? [])].some((k) => k.startsWith(`${task}/`));
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

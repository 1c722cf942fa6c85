/**
 * DynamicBatchingEngine, the implementation of the InferenceEngine port (`inference-engine.ts`):
 * per-version dynamic batching (Triton's knobs) over sessions from a SessionFactory
 * (`model-session.ts`; onnxruntime-node in `onnx/`).
 */
import { availableParallelism } from 'node:os';
import { ConflictError, ValidationError } from '../errors';
import { BatchingConfig, DEFAULT_BATCHING_CONFIG, DynamicBatcher } from './batching/dynamic-batcher';
import { ModelNotLoadedError } from './batching/batching-errors';
import type { HostLoad } from './batching/host-load';
import { instanceGroupExecutor } from './batching/session-executor';
import type { SessionFactory, TensorMap } from './model-session';
import type {
  InferenceEngine,
  InferenceObserver,
  InferRequest,
  InferResult,
  ModelHealth,
} from './inference-engine';
import { loadModel, LoadedModel, ModelLoadError } from './model-loader';
import type { ModelManifest, Precision } from './model-manifest';

/** Engine configuration: session options plus the batching knobs applied to every version. */
export interface EngineConfig extends BatchingConfig {
  /** Execution providers to try in order (e.g. `['cuda', 'cpu']`); CPU is always the last resort. */
  executionProviders: string[];
  /**
   * Threads inside one operator; 0 or omitted lets the runtime choose (one per physical core). Always
   * passed to the factory as a number: onnxruntime-node 1.30 rejects an explicit `undefined`.
   */
  intraOpThreads?: number;
  /** Idle intra-op threads spin-wait for work (onnxruntime's default) instead of sleeping; default off. */
  spinWait?: boolean;
  /**
   * `int8` serves a version's accepted int8 graph (model.json `variants.int8`) where it has one, and
   * model.onnx elsewhere (logged with the reason); default `fp32`.
   */
  precision?: Precision;
  /**
   * Model instances per version that run batches side by side under load (Triton's instance group),
   * each with `cores / instances` intra-op threads (cores: `intraOpThreads`, else the machine's). A
   * batch that runs alone still goes to one session with every thread. Needs a factory whose sessions
   * run concurrently (worker threads) and a CPU provider; otherwise, and with 1 (the default), each
   * version has one session and a second batch is pipelined behind the running one when the session
   * allows it.
   */
  instances?: number;
}

/** Defaults: CPU, and {@link DEFAULT_BATCHING_CONFIG}. */
const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  executionProviders: ['cpu'],
  maxBatchSize: DEFAULT_BATCHING_CONFIG.maxBatchSize,
  maxQueueDelayMs: DEFAULT_BATCHING_CONFIG.maxQueueDelayMs,
  maxQueueSize: DEFAULT_BATCHING_CONFIG.maxQueueSize,
  maxPredictedWaitMs: DEFAULT_BATCHING_CONFIG.maxPredictedWaitMs,
};

/** Logger shape the engine needs (pino fits). */
export interface EngineLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Ports and knobs of {@link DynamicBatchingEngine}. */
export interface DynamicBatchingEngineOptions extends Partial<EngineConfig> {
  /** Opens model files (the onnxruntime adapter in production, a fake in unit tests). */
  sessionFactory: SessionFactory;
  /** Batching knobs per task, over the engine-wide ones (e.g. a smaller maxBatchSize for wrist). */
  perTask?: Record<string, Partial<BatchingConfig>>;
  log?: EngineLog;
  /** Told of every finished request and batch (metrics). */
  observer?: InferenceObserver;
  /**
   * Whether the host's cores are busy: a lone batch then runs on an instance, not on the session with
   * every thread (see {@link BatchingConfig.hostBusy}); without it a lone batch always may.
   */
  hostLoad?: HostLoad;
}

interface VersionSlot {
  task: string;
  version: string;
  model: LoadedModel;
  batcher: DynamicBatcher<readonly Float32Array[], TensorMap>;
  unloading?: Promise<void>;
}

interface TaskSlot {
  active: string | null;
  versions: Map<string, VersionSlot>;
}

const SILENT: EngineLog = { info: () => undefined, warn: () => undefined };
const UNOBSERVED: InferenceObserver = { requestFinished: () => undefined, batchFinished: () => undefined };

const codeOf = (error: unknown): string =>
  typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'ERROR';

/**
 * {@link InferenceEngine} with one {@link DynamicBatcher} per loaded model version. A request pins
 * its version when admitted (synchronously, in `infer`), so after `activate` in-flight requests finish
 * on the version they started with while new ones go to the new default; `unloadVersion` stops
 * admissions to that version, waits for its queue to drain, then releases the session.
 */
export class DynamicBatchingEngine implements InferenceEngine {
  private readonly tasks = new Map<string, TaskSlot>();
  private readonly loading = new Set<string>();
  private readonly config: EngineConfig;
  private readonly factory: SessionFactory;
  private readonly perTask: Record<string, Partial<BatchingConfig>>;
  private readonly log: EngineLog;
  private readonly observer: InferenceObserver;
  private readonly hostLoad: HostLoad | null;

  constructor(options: DynamicBatchingEngineOptions) {
    const { sessionFactory, perTask, log, observer, hostLoad, ...knobs } = options;
    this.config = {
      ...DEFAULT_ENGINE_CONFIG,
      ...Object.fromEntries(Object.entries(knobs).filter(([, v]) => v !== undefined)),
    };
    this.factory = sessionFactory;
    this.perTask = perTask ?? {};
    this.log = log ?? SILENT;
    this.observer = observer ?? UNOBSERVED;
    this.hostLoad = hostLoad ?? null;
  }

  /** The effective configuration (defaults filled in). */
  get effectiveConfig(): Readonly<EngineConfig> {
    return this.config;
  }

  infer(request: InferRequest): Promise<InferResult> {
    let slot: VersionSlot;
    try {
      slot = this.admit(request);
    } catch (error) {
      this.observer.requestFinished({
        task: request.task,
        version: request.version ?? this.activeVersion(request.task) ?? 'none',
        outcome: codeOf(error),
      });
      return Promise.reject(error);
    }
    const { task, version, model } = slot;
    return slot.batcher
      .submit(request.views, {
        priority: request.priority,
        deadline: request.deadline,
        signal: request.signal,
      })
      .then(
        (served) => {
          this.observer.requestFinished({ task, version, outcome: 'ok', timings: served.timings });
          return {
            task,
            version,
            manifest: model.manifest,
            outputs: served.output,
            timings: served.timings,
          };
        },
        (error: unknown) => {
          this.observer.requestFinished({ task, version, outcome: codeOf(error) });
          throw error;
        },
      );
  }

  async loadVersion(
    task: string,
    version: string,
    dir: string,
    options: { activate?: boolean } = {},
  ): Promise<void> {
    const key = `${task}/${version}`;
    if (this.tasks.get(task)?.versions.has(version) || this.loading.has(key)) {
      throw new ConflictError('This model version is already loaded', { task, version });
    }
    this.loading.add(key);
    try {
      const model = await this.loadInstances(task, dir);
      const batcher = this.createBatcher(task, version, model);
      let taskSlot = this.tasks.get(task);
      if (!taskSlot) {
        taskSlot = { active: null, versions: new Map() };
        this.tasks.set(task, taskSlot);
      }
      taskSlot.versions.set(version, { task, version, model, batcher });
      this.log.info(
        {
          task,
          version,
          provider: model.session.provider,
          requested: this.config.executionProviders,
          instances: Math.max(1, model.instances.length),
          precision: model.precision,
        },
        'model version loaded',
      );
      if (model.precisionNote)
        this.log.warn(
          {
            task,
            version,
            requested: this.config.precision,
            precision: model.precision,
            reason: model.precisionNote,
          },
          'model version runs another precision than ENGINE_PRECISION asks',
        );
      if (options.activate ?? taskSlot.active === null) this.activate(task, version);
    } finally {
      this.loading.delete(key);
    }
  }

  /** The model's session and its instances (each with its share of the cores), checked to be for `task`. */
  private async loadInstances(task: string, dir: string) {
    const instances = Math.max(1, Math.floor(this.config.instances ?? 1));
    const cores = this.config.intraOpThreads || availableParallelism();
    const model = await loadModel(
      dir,
      this.factory,
      {
        executionProviders: this.config.executionProviders,
        intraOpThreads: this.config.intraOpThreads ?? 0,
        spinWait: this.config.spinWait ?? false,
        // With instances beside it, this session only runs batches that are alone.
        ...(instances > 1 && this.factory.concurrentSessions ? { stopSpinningAfterRun: true } : {}),
      },
      { count: instances, intraOpThreads: Math.max(1, Math.floor(cores / instances)) },
      this.config.precision ?? 'fp32',
    );
    if (model.manifest.task !== task) {
      await Promise.allSettled([model.session, ...model.instances].map((x) => x.release()));
      throw new ModelLoadError('model.json is for another task', {
        dir,
        task,
        manifestTask: model.manifest.task,
      });
    }
    return model;
  }

  /** The batcher of one loaded version, with the task's knobs; every batch is reported to the observer. */
  private createBatcher(task: string, version: string, model: Awaited<ReturnType<typeof loadModel>>) {
    const { input } = model.manifest;
    const knobs = { ...this.config, ...this.perTask[task] };
    const execute = instanceGroupExecutor(model.session, model.instances, input.names, input.size);
    const grouped = model.instances.length > 1;
    const observer = this.observer;
    return new DynamicBatcher<readonly Float32Array[], TensorMap>(
      async (items, placement) => {
        const t0 = performance.now();
        let ok = false;
        try {
          const out = await execute(items, placement);
          ok = true;
          return out;
        } finally {
          observer.batchFinished({
            task,
            version,
            size: items.length,
            durationMs: performance.now() - t0,
            ok,
          });
        }
      },
      {
        maxBatchSize: knobs.maxBatchSize,
        maxQueueDelayMs: knobs.maxQueueDelayMs,
        maxQueueSize: knobs.maxQueueSize,
        maxPredictedWaitMs: knobs.maxPredictedWaitMs,
        ewmaAlpha: knobs.ewmaAlpha,
        instances: grouped ? model.instances.length : 1,
        pipelineDepth: (grouped ? model.instances[0]! : model.session).pipelineDepth ?? 1,
        ...(this.hostLoad ? { hostBusy: () => this.hostLoad!.busy() } : {}),
      },
      { task, version },
    );
  }

  activate(task: string, version: string): void {
    const slot = this.slot(task, version);
    if (slot.unloading)
      throw new ModelNotLoadedError('This model version is being unloaded', { task, version });
    const taskSlot = this.tasks.get(task)!;
    const previous = taskSlot.active;
    taskSlot.active = version;
    if (previous !== version) this.log.info({ task, version, previous }, 'model version activated');
  }

  unloadVersion(task: string, version: string): Promise<void> {
    let slot: VersionSlot;
    try {
      slot = this.slot(task, version);
    } catch (error) {
      return Promise.reject(error);
    }
    slot.unloading ??= this.drainAndRelease(slot);
    return slot.unloading;
  }

  activeVersion(task: string): string | null {
    return this.tasks.get(task)?.active ?? null;
  }

  manifest(task: string, version?: string): ModelManifest {
    return this.slot(task, version ?? this.activeOrThrow(task)).model.manifest;
  }

  precision(task: string, version?: string): Precision {
    return this.slot(task, version ?? this.activeOrThrow(task)).model.precision;
  }

  health(): ModelHealth[] {
    const out: ModelHealth[] = [];
    for (const [task, taskSlot] of this.tasks) {
      for (const [version, slot] of taskSlot.versions) {
        out.push({
          task,
          version,
          active: taskSlot.active === version,
          provider: slot.model.session.provider,
          precision: slot.model.precision,
          instances: Math.max(1, slot.model.instances.length),
          queueDepth: slot.batcher.queueDepth,
          queueDepthByPriority: slot.batcher.queueDepthByPriority,
          inFlight: slot.batcher.inFlight,
          draining: slot.unloading !== undefined,
        });
      }
    }
    return out;
  }

  /** Unloads every version (each after draining its in-flight requests). */
  async close(): Promise<void> {
    const all = [...this.tasks.values()].flatMap((t) => [...t.versions.values()]);
    await Promise.all(all.map((s) => this.unloadVersion(s.task, s.version)));
  }

  private admit(request: InferRequest): VersionSlot {
    const slot = this.slot(request.task, request.version ?? this.activeOrThrow(request.task));
    if (slot.unloading)
      throw new ModelNotLoadedError('This model version is being unloaded', {
        task: slot.task,
        version: slot.version,
      });
    const { names, size } = slot.model.manifest.input;
    if (request.views.length !== names.length) {
      throw new ValidationError(`The model takes ${names.length} view(s)`, {
        task: slot.task,
        version: slot.version,
        views: request.views.length,
      });
    }
    for (const v of request.views) {
      if (v.length !== size * size) {
        throw new ValidationError('A view tensor does not match the model input size', {
          task: slot.task,
          version: slot.version,
          expected: size * size,
          got: v.length,
        });
      }
    }
    return slot;
  }

  private activeOrThrow(task: string): string {
    const active = this.tasks.get(task)?.active;
    if (!active) throw new ModelNotLoadedError('No active model version for this task', { task });
    return active;
  }

  private slot(task: string, version: string): VersionSlot {
    const slot = this.tasks.get(task)?.versions.get(version);
    if (!slot) throw new ModelNotLoadedError('This model version is not loaded', { task, version });
    return slot;
  }

  private async drainAndRelease(slot: VersionSlot): Promise<void> {
    const taskSlot = this.tasks.get(slot.task)!;
    if (taskSlot.active === slot.version) {
      taskSlot.active = null;
      this.log.warn(
        { task: slot.task, version: slot.version },
        'unloading the active version; the task has no default until another is activated',
      );
    }
    await slot.batcher.close();
    try {
      const released = await Promise.allSettled(
        [slot.model.session, ...slot.model.instances].map((x) => x.release()),
      );
      const failed = released.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      taskSlot.versions.delete(slot.version);
      if (taskSlot.versions.size === 0 && taskSlot.active === null) this.tasks.delete(slot.task);
      this.log.info({ task: slot.task, version: slot.version }, 'model version unloaded');
    }
  }
}

import { Worker } from 'node:worker_threads';
import { AppError } from '../../errors';
import type { ModelSession, SessionFactory, SessionOptions, TensorMap } from '../model-session';
import { startWorkerScript } from '../worker-script';
import type { ProviderLog } from './onnx-session.factory';
import {
  deserializeWorkerError,
  postTensors,
  SessionWorkerData,
  SessionWorkerMessage,
  SessionWorkerRequest,
} from './session-worker.protocol';

/** A session worker thread stopped (crash, out of memory, terminated) while this run was in flight. */
class InferenceWorkerCrashedError extends AppError {
  readonly code = 'INFERENCE_WORKER_CRASHED' as const;
  override readonly httpStatus = 503;
}

/** The session was released before or while this run was in flight. */
class InferenceSessionReleasedError extends AppError {
  readonly code = 'INFERENCE_SESSION_RELEASED' as const;
  override readonly httpStatus = 503;
}

/** Starts one session worker (`onnx-session.worker`, compiled or from sources). */
export function spawnSessionWorker(data: SessionWorkerData): Worker {
  return startWorkerScript(__dirname, 'onnx-session.worker', { workerData: data });
}

/** Knobs and ports of {@link WorkerSessionFactory}. */
export interface WorkerSessionFactoryOptions {
  /** Receives provider fallback lines (logged in the worker, forwarded here). */
  log?: ProviderLog;
  /** Starts a session worker; replaceable so a test can watch or kill workers. */
  spawn?: (data: SessionWorkerData) => Worker;
}

/**
 * onnxruntime-node adapter that gives every loaded model its own worker thread owning the session, so
 * a batch (synchronous inside onnxruntime-node 1.30) never blocks the event loop. Providers fall back
 * and are logged exactly as in {@link OnnxSessionFactory} (shared code, run in the worker).
 *
 * Tensor ownership: a feed whose Float32Array spans its whole ArrayBuffer is transferred to the worker
 * and is detached (empty) in the caller once the run is posted (at once when the model is loaded); a
 * view into a larger or shared buffer is copied. The sessions say so with `transfersFeeds = true`. When
 * the run settles (done or failed) the worker transfers the buffers back and they are put into the
 * caller's feed objects again (`feeds[name].data`), so a caller can reuse them; a crash loses them.
 * Outputs come back by transfer and belong to the caller.
 *
 * A worker that dies rejects its in-flight runs with INFERENCE_WORKER_CRASHED; the next `run` starts a
 * new worker and reloads the model. A load error arrives as the runtime's Error (same name and message
 * as on the main thread).
 */
export class WorkerSessionFactory implements SessionFactory {
  /** Each session has its own worker thread, so sessions of one model run at the same time. */
  readonly concurrentSessions = true;

  private readonly log: ProviderLog;
  private readonly spawn: (data: SessionWorkerData) => Worker;

  constructor(options: WorkerSessionFactoryOptions = {}) {
    this.log = options.log ?? { warn: () => undefined };
    this.spawn = options.spawn ?? spawnSessionWorker;
  }

  async load(modelPath: string, options: SessionOptions): Promise<ModelSession> {
    const session = new WorkerModelSession({ modelPath, options }, this.spawn, this.log);
    await session.started();
    return session;
  }
}

interface PendingRun {
  /** The caller's feeds; transferred ones get their buffers back when the run settles. */
  feeds: TensorMap;
  resolve(outputs: TensorMap): void;
  reject(error: unknown): void;
}

/** Puts buffers the worker handed back into the caller's feeds that the transfer detached. */
function restoreFeeds(feeds: TensorMap, returned: TensorMap): void {
  for (const [name, t] of Object.entries(returned)) {
    const mine = feeds[name];
    if (mine && mine.data.buffer.byteLength === 0 && t.data.length === mine.dims.reduce((a, b) => a * b, 1)) {
      mine.data = t.data;
    }
  }
}

/** One worker generation: the thread, its load, and the runs it holds. */
interface Slot {
  worker: Worker;
  ready: Promise<void>;
  runs: Map<number, PendingRun>;
}

class WorkerModelSession implements ModelSession {
  readonly transfersFeeds = true;
  /** The worker runs requests one after another in arrival order; a second one waits in its queue. */
  readonly pipelineDepth = 2;
  private names: { inputs: readonly string[]; outputs: readonly string[]; provider: string } = {
    inputs: [],
    outputs: [],
    provider: 'cpu',
  };
  private slot: Slot | null = null;
  private nextId = 1;
  private released = false;

  constructor(
    private readonly data: SessionWorkerData,
    private readonly spawn: (data: SessionWorkerData) => Worker,
    private readonly log: ProviderLog,
  ) {}

  get inputNames(): readonly string[] {
    return this.names.inputs;
  }

  get outputNames(): readonly string[] {
    return this.names.outputs;
  }

  /** The provider the current (or last) worker's session really runs on. */
  get provider(): string {
    return this.names.provider;
  }

  /** Starts the first worker and waits for the model to load; a failed load leaves no worker behind. */
  async started(): Promise<void> {
    await this.current().ready;
  }

  async run(feeds: TensorMap): Promise<TensorMap> {
    if (this.released) throw this.releasedError();
    const slot = this.current();
    const id = this.nextId++;
    const outputs = new Promise<TensorMap>((resolve, reject) =>
      slot.runs.set(id, { feeds, resolve, reject }),
    );
    outputs.catch(() => undefined); // a crash while loading rejects it before the caller awaits it
    try {
      await slot.ready;
    } catch (error) {
      slot.runs.delete(id);
      throw error;
    }
    if (slot.runs.has(id)) {
      postTensors<SessionWorkerRequest>(slot.worker, feeds, (tensors) => ({
        type: 'run',
        id,
        feeds: tensors,
      }));
    }
    return outputs;
  }

  /** Terminates the worker (which frees its session); runs still in flight fail with INFERENCE_SESSION_RELEASED. */
  async release(): Promise<void> {
    this.released = true;
    const slot = this.slot;
    this.slot = null;
    if (slot) await slot.worker.terminate();
  }

  /** The live worker, starting one (and reloading the model) when there is none. */
  private current(): Slot {
    if (!this.slot) this.slot = this.start();
    return this.slot;
  }

  private start(): Slot {
    const worker = this.spawn(this.data);
    let loaded!: () => void;
    let failed!: (error: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => ((loaded = resolve), (failed = reject)));
    ready.catch(() => undefined);
    const slot: Slot = { worker, ready, runs: new Map() };
    let lastError: Error | undefined;
    worker.on('message', (msg: SessionWorkerMessage) => {
      switch (msg.type) {
        case 'log':
          return this.log.warn(msg.obj, msg.msg);
        case 'loaded':
          this.names = { inputs: msg.inputNames, outputs: msg.outputNames, provider: msg.provider };
          return loaded();
        case 'load-failed':
          if (this.slot === slot) this.slot = null;
          failed(deserializeWorkerError(msg.error));
          void worker.terminate();
          return;
        case 'done':
        case 'failed': {
          const run = slot.runs.get(msg.id);
          if (!run) return;
          slot.runs.delete(msg.id);
          restoreFeeds(run.feeds, msg.feeds);
          if (msg.type === 'done') run.resolve(msg.outputs);
          else run.reject(deserializeWorkerError(msg.error));
        }
      }
    });
    worker.on('error', (error) => (lastError = error));
    worker.on('exit', (exitCode) => {
      if (this.slot === slot) this.slot = null;
      const error = this.released
        ? this.releasedError()
        : new InferenceWorkerCrashedError(
            'The inference worker stopped during this run; the next run restarts it',
            { exitCode },
            { cause: lastError },
          );
      failed(error);
      for (const run of slot.runs.values()) run.reject(error);
      slot.runs.clear();
    });
    return slot;
  }

  private releasedError(): InferenceSessionReleasedError {
    return new InferenceSessionReleasedError('The model session was released');
  }
}

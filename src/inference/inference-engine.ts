/**
 * The InferenceEngine port: what the domain and the readers ask of inference (run a request at a
 * priority, hot-swap versions, report health) and the observer it reports to. Its implementation is
 * `dynamic-batching.engine.ts`; the model sessions it runs on are the ports of `model-session.ts`.
 */
import type { Tensor } from './model-session';
import type { ModelManifest, Precision } from './model-manifest';

/** Reading priority; STAT is served before URGENT before ROUTINE. */
export type Priority = 'STAT' | 'URGENT' | 'ROUTINE';

/** One item to run: the preprocessed input tensor of each of the model's inputs (views), unbatched. */
export interface InferRequest {
  /** Model task, e.g. `chest`, `wrist`. */
  task: string;
  /** Version to run; the active version of the task when omitted. */
  version?: string;
  /** One `[1, S, S]` float tensor per model input, in the manifest's input order. */
  views: Float32Array[];
  priority: Priority;
  /** Absolute deadline (ms since epoch); the request fails with DEADLINE_EXCEEDED if not started by then. */
  deadline?: number;
  /** Cancels the request if it has not started running. */
  signal?: AbortSignal;
}

/** The outputs of one item, with the batch dimension removed, and how it was served. */
export interface InferResult {
  task: string;
  version: string;
  manifest: ModelManifest;
  outputs: Record<string, Tensor>;
  timings: { queueMs: number; inferenceMs: number; batchSize: number };
}

/** Health of one loaded model version. */
export interface ModelHealth {
  task: string;
  version: string;
  active: boolean;
  provider: string;
  /** The graph that runs: model.onnx (`fp32`) or the version's accepted int8 variant (ENGINE_PRECISION). */
  precision: Precision;
  /** Model instances that run batches side by side under load (1: a single session). */
  instances: number;
  queueDepth: number;
  /** Items waiting to start, per priority lane. */
  queueDepthByPriority: Record<Priority, number>;
  inFlight: number;
  /** True while the version is being unloaded: it admits nothing new and drains its queue. */
  draining?: boolean;
}

/** One request that left the engine: served (`ok`) or refused/failed (the error's code). */
export interface InferenceRequestEvent {
  task: string;
  /** The version it ran on; the requested one (or `none`) when it was refused before admission. */
  version: string;
  /** `ok`, or the error code (`QUEUE_FULL`, `DEADLINE_EXCEEDED`, `CANCELLED`, `MODEL_NOT_LOADED`, ...). */
  outcome: string;
  /** Set when it was served. */
  timings?: InferResult['timings'];
}

/** One batch that ran on a session. */
export interface InferenceBatchEvent {
  task: string;
  version: string;
  size: number;
  /** Wall time of the session run, in milliseconds. */
  durationMs: number;
  ok: boolean;
}

/**
 * What the engine reports as it works (metrics). A port, so the engine never depends on a metrics
 * library; implementations must be cheap and must not throw.
 */
export interface InferenceObserver {
  requestFinished(event: InferenceRequestEvent): void;
  batchFinished(event: InferenceBatchEvent): void;
}

/**
 * The inference engine: per-version sessions behind dynamic batchers (Triton-style), with admission
 * control, deadlines, cancellation, priority lanes and hot-swap of versions.
 */
export interface InferenceEngine {
  /** Runs one item, batched with concurrent ones of the same version. */
  infer(request: InferRequest): Promise<InferResult>;
  /** Loads a version beside the running ones; `activate` makes it the task's default for new requests. */
  loadVersion(task: string, version: string, dir: string, options?: { activate?: boolean }): Promise<void>;
  /** Makes a loaded version the default for new requests; in-flight requests finish on theirs. */
  activate(task: string, version: string): void;
  /** Unloads a version once its in-flight requests have finished. */
  unloadVersion(task: string, version: string): Promise<void>;
  /** The default version of a task, or null. */
  activeVersion(task: string): string | null;
  /** Manifest of a loaded version. */
  manifest(task: string, version?: string): ModelManifest;
  /** The precision of the graph a loaded version runs (ENGINE_PRECISION and the version's variants). */
  precision(task: string, version?: string): Precision;
  health(): ModelHealth[];
  close(): Promise<void>;
}

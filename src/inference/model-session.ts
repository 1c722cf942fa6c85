/**
 * The session ports: a loaded model graph ({@link ModelSession}), how one is loaded
 * ({@link SessionFactory}) and the tensors they pass. Only `onnx/` implements them with
 * onnxruntime-node, so the rest of the product (batching, readers, tests with fakes) never imports the
 * runtime. The engine the domain calls is another port, `inference-engine.ts`; its implementation over
 * these sessions is `dynamic-batching.engine.ts`.
 */

/** A dense float32 tensor. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/** Named tensors in or out of a model. */
export type TensorMap = Record<string, Tensor>;

/** One loaded model graph that can be run. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Execution provider the session really runs on (e.g. `cpu`, `cuda`). */
  readonly provider: string;
  /**
   * True when `run` borrows its feeds: a feed whose Float32Array spans its whole ArrayBuffer is
   * transferred to another thread and is detached (empty) in the caller while the run is in flight.
   * When the run settles, the session puts the buffer back into the caller's feed object
   * (`feeds[name].data`, same length), unless the thread holding it died. Callers that need an array
   * during the run must pass a copy. Absent or false: feeds are only read.
   */
  readonly transfersFeeds?: boolean;
  /**
   * How many `run` calls may be outstanding at once. A session that queues runs and executes them in
   * order on its own thread (the worker session) takes 2, so the next batch is already waiting when
   * the current one finishes; absent means 1 (calls must not overlap).
   */
  readonly pipelineDepth?: number;
  run(feeds: TensorMap): Promise<TensorMap>;
  release(): Promise<void>;
}

/** Options for loading a session. */
export interface SessionOptions {
  /** Providers to try in order; CPU is always the last resort. */
  executionProviders: string[];
  /** Threads inside one operator (default: runtime's choice). */
  intraOpThreads?: number;
  /**
   * Stop the intra-op threads spinning as soon as a run ends (they spin between operators inside a
   * run either way). For a session that runs alone now and then: its idle threads would otherwise keep
   * a core busy after each run, just when the thread that ran it must hand the answer back. Only with
   * {@link spinWait}: otherwise idle threads never spin.
   */
  stopSpinningAfterRun?: boolean;
  /**
   * Let idle intra-op threads spin-wait for work instead of sleeping (onnxruntime's own default). Off
   * unless set: on a host whose cores the event loop, the decode workers and PostgreSQL share, a spinning
   * thread burns the core one of them needs (measured: a fifth more CPU per analysis at c = 16).
   */
  spinWait?: boolean;
}

/** Loads model files into sessions. */
export interface SessionFactory {
  /**
   * True when each session runs on a thread of its own (the worker-thread adapter), so several
   * sessions of one model can run batches at the same time (an instance group). Absent or false:
   * sessions share the calling thread and run one after the other.
   */
  readonly concurrentSessions?: boolean;
  load(modelPath: string, options: SessionOptions): Promise<ModelSession>;
}

/**
 * Messages between {@link WorkerSessionFactory} and its session worker threads, and the tensor
 * ownership rule both sides apply when posting tensors.
 */
import type { SessionOptions, Tensor, TensorMap } from '../model-session';

/** What a session worker is started with (`workerData`). */
export interface SessionWorkerData {
  modelPath: string;
  options: SessionOptions;
}

/** An error as it crosses the thread boundary (structured clone keeps no class). */
export interface SerializedWorkerError {
  name: string;
  message: string;
  stack?: string;
}

/** Main thread → worker. */
export type SessionWorkerRequest = { type: 'run'; id: number; feeds: TensorMap };

/** Worker → main thread. */
export type SessionWorkerMessage =
  | { type: 'log'; obj: object; msg: string }
  | {
      type: 'loaded';
      provider: string;
      inputNames: readonly string[];
      outputNames: readonly string[];
    }
  | { type: 'load-failed'; error: SerializedWorkerError }
  | { type: 'done'; id: number; outputs: TensorMap; feeds: TensorMap }
  | { type: 'failed'; id: number; error: SerializedWorkerError; feeds: TensorMap };

/** Flattens an error for postMessage. */
export function serializeWorkerError(error: unknown): SerializedWorkerError {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message, stack: e.stack };
}

/** Rebuilds a worker's error as a plain Error with the same name, message and stack. */
export function deserializeWorkerError(s: SerializedWorkerError): Error {
  return Object.assign(new Error(s.message), { name: s.name, stack: s.stack });
}

/**
 * True when the array spans its whole, non-shared ArrayBuffer, so transferring that buffer hands over
 * exactly this tensor and nothing else. Checked by tag, not `instanceof`, because buffers made by the
 * runtime or under jest may come from another realm.
 */
function ownsWholeBuffer(a: Float32Array): boolean {
  return (
    a.byteOffset === 0 &&
    a.byteLength === a.buffer.byteLength &&
    Object.prototype.toString.call(a.buffer) === '[object ArrayBuffer]'
  );
}

/**
 * Prepares tensors for postMessage under the ownership rule: an array that owns its whole buffer is
 * transferred (it is detached in the sender afterwards); a view into a larger or shared buffer is
 * copied first (only its own bytes), so a caller's shared buffer is never detached. With `copyAll`
 * every tensor is copied (the fallback when the runtime marked a buffer untransferable).
 *
 * @returns the tensors to post and the buffers to list as transferables
 */
function packTensors(tensors: TensorMap, copyAll = false): { tensors: TensorMap; transfer: ArrayBuffer[] } {
  const out: TensorMap = {};
  const transfer = new Set<ArrayBuffer>();
  for (const [name, t] of Object.entries(tensors)) {
    const own = !copyAll && ownsWholeBuffer(t.data) && !transfer.has(t.data.buffer as ArrayBuffer);
    const data = own ? t.data : t.data.slice();
    transfer.add(data.buffer as ArrayBuffer);
    out[name] = { data, dims: [...t.dims] } satisfies Tensor;
  }
  return { tensors: out, transfer: [...transfer] };
}

/**
 * Posts `tensors` (inside the message `build` makes) by transfer where the rule allows; when a buffer
 * cannot be transferred (e.g. memory the runtime marked untransferable) posts copies instead.
 * `returned` are feeds handed back to their owner (the worker returning a run's input buffers) under
 * the same rule, so the owner can fill them again instead of allocating new ones.
 */
export function postTensors<M>(
  port: { postMessage(message: M, transfer: ArrayBuffer[]): void },
  tensors: TensorMap,
  build: (tensors: TensorMap, returned: TensorMap) => M,
  returned: TensorMap = {},
): void {
  const packed = packTensors(tensors);
  const back = packTensors(returned);
  const transfer = [...new Set([...packed.transfer, ...back.transfer])];
  try {
    port.postMessage(build(packed.tensors, back.tensors), transfer);
  } catch (error) {
    if ((error as Error).name !== 'DataCloneError') throw error;
    const copies = packTensors(tensors, true);
    const backCopies = packTensors(returned, true);
    port.postMessage(build(copies.tensors, backCopies.tensors), [...copies.transfer, ...backCopies.transfer]);
  }
}

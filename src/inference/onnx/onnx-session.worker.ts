/**
 * Session worker thread: owns one onnxruntime session, so `session.run` (synchronous in
 * onnxruntime-node 1.30) blocks this thread instead of the event loop. Loads the model given in
 * `workerData` with the same provider fallback as the main-thread adapter (its log lines are forwarded
 * to the parent), posts `loaded` or `load-failed`, then answers `run` requests in order, transferring
 * outputs and the run's input buffers back. Started by {@link WorkerSessionFactory}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { nameThisThread, THREAD_NAMES } from '../../shared/thread-cpu';
import { createOrtSession, runOrtSession } from './onnx-session.factory';
import {
  postTensors,
  serializeWorkerError,
  SessionWorkerData,
  SessionWorkerMessage,
  SessionWorkerRequest,
} from './session-worker.protocol';

const port = parentPort;
if (!port) throw new Error('onnx-session.worker must run inside a worker thread');
const { modelPath, options } = workerData as SessionWorkerData;
// Named before the session starts its intra-op threads, which inherit the name.
nameThisThread(THREAD_NAMES.engine);
const post = (message: SessionWorkerMessage, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(message, transfer);

const loading: Promise<InferenceSession> = createOrtSession(modelPath, options, {
  warn: (obj, msg) => post({ type: 'log', obj, msg }),
}).then(({ session, provider }) => {
  post({ type: 'loaded', provider, inputNames: session.inputNames, outputNames: session.outputNames });
  return session;
});
loading.catch((error: unknown) => post({ type: 'load-failed', error: serializeWorkerError(error) }));

port.on('message', (request: SessionWorkerRequest) => {
  // The run's input buffers go back with its answer, so the caller refills them instead of allocating.
  const feeds = request.feeds;
  loading
    .then((session) => runOrtSession(session, feeds))
    .then(
      (outputs) =>
        postTensors<SessionWorkerMessage>(
          port,
          outputs,
          (tensors, returned) => ({ type: 'done', id: request.id, outputs: tensors, feeds: returned }),
          feeds,
        ),
      (error: unknown) =>
        postTensors<SessionWorkerMessage>(
          port,
          {},
          (_, returned) => ({
            type: 'failed',
            id: request.id,
            error: serializeWorkerError(error),
            feeds: returned,
          }),
          feeds,
        ),
    )
    .catch((error: unknown) =>
      post({ type: 'failed', id: request.id, error: serializeWorkerError(error), feeds: {} }),
    );
});

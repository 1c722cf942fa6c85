/**
 * Decode worker thread: one job at a time, decode + quality check + preprocessing, tensor transferred
 * back (or, for an `inspect` job, decode only and the image's description back). Started by {@link DecodePool}; posts `ready` once its codecs are instantiated.
 */
import { parentPort } from 'node:worker_threads';
import { inspectImage, warmUpCodecs } from '../../imaging';
import { nameThisThread, THREAD_NAMES } from '../../shared/thread-cpu';
import {
  decodeAndPrepare,
  DecodeJobMessage,
  DecodedTensor,
  DecodeWorkerMessage,
  inspectAndPrepare,
  serializeError,
} from './decode-job';

const port = parentPort;
if (!port) throw new Error('decode.worker must run inside a worker thread');
nameThisThread(THREAD_NAMES.decode);

const post = (message: DecodeWorkerMessage, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(message, transfer);

/** The tensor in a buffer of its own, so it can be transferred. */
function owned(result: DecodedTensor): DecodedTensor {
  const t = result.tensor;
  return { ...result, tensor: t.byteOffset === 0 && t.byteLength === t.buffer.byteLength ? t : t.slice() };
}

port.on('message', (job: DecodeJobMessage) => {
  if (job.kind === 'inspect' && job.contracts?.length) {
    inspectAndPrepare(
      new Uint8Array(job.bytes, job.byteOffset, job.byteLength),
      job.limits,
      job.contracts,
    ).then(
      ({ info, prepared }) => {
        const tensors = prepared.map(owned);
        post(
          { type: 'inspected', id: job.id, info, prepared: tensors },
          tensors.map((p) => p.tensor.buffer as ArrayBuffer),
        );
      },
      (error: unknown) => post({ type: 'failed', id: job.id, error: serializeError(error) }),
    );
    return;
  }
  if (job.kind === 'inspect') {
    inspectImage(new Uint8Array(job.bytes, job.byteOffset, job.byteLength), job.limits).then(
      (info) => post({ type: 'inspected', id: job.id, info }),
      (error: unknown) => post({ type: 'failed', id: job.id, error: serializeError(error) }),
    );
    return;
  }
  decodeAndPrepare(
    new Uint8Array(job.bytes, job.byteOffset, job.byteLength),
    job.size,
    job.limits,
    job.preprocessing,
  ).then(
    (result) => {
      const mine = owned(result);
      post({ type: 'done', id: job.id, result: mine }, [mine.tensor.buffer as ArrayBuffer]);
    },
    (error: unknown) => post({ type: 'failed', id: job.id, error: serializeError(error) }),
  );
});

warmUpCodecs().then(
  () => post({ type: 'ready' }),
  () => post({ type: 'ready' }),
);

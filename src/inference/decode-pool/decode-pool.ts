import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImageLimits } from '../../imaging';
import {
  DecodeJobMessage,
  DecodePoolClosedError,
  DecodeWorkerCrashedError,
  DecodeWorkerMessage,
  deserializeError,
  PreparedImage,
} from './decode-job';

/**
 * Starts one decode worker. Under `dist/` the compiled `decode.worker.js` sits beside this file and is
 * started directly; when running from TypeScript sources (jest, `node -r @swc-node/register`) only
 * `decode.worker.ts` exists, so a two-line bootstrap registers @swc-node first and then requires it.
 */
export function spawnDecodeWorker(): Worker {
  const compiled = join(__dirname, 'decode.worker.js');
  if (existsSync(compiled)) return new Worker(compiled);
  const source = join(__dirname, 'decode.worker.ts');
  if (!existsSync(source)) throw new Error(`decode worker not found beside ${__filename}`);
  const bootstrap = `require(${JSON.stringify(require.resolve('@swc-node/register'))});\nrequire(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { eval: true });
}

/** Knobs and ports of {@link DecodePool}. */
export interface DecodePoolOptions {
  /** Decoding limits (upload bytes, pixel count) applied in every worker. */
  limits: ImageLimits;
  /** Number of workers; default: the number of CPUs. */
  size?: number;
  /** Starts a worker; replaceable so a test can watch or kill workers. */
  spawn?: () => Worker;
}

interface Job {
  id: number;
  bytes: Uint8Array;
  size: number;
  resolve(value: PreparedImage): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  ready: Promise<void>;
  lastError?: Error;
}

/**
 * A pool of worker threads that decode and preprocess uploads (decodeImage → quality check →
 * toModelTensor), so decoding never blocks the event loop and uses every core. Bytes go to a worker
 * and the tensor comes back by transfer, not copy. An {@link ImageError} thrown in a worker arrives as
 * the same ImageError (code, details); a worker that dies is replaced and its job fails with
 * DECODE_WORKER_CRASHED.
 */
export class DecodePool {
  /** Number of workers. */
  readonly size: number;
  private readonly limits: ImageLimits;
  private readonly spawn: () => Worker;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: DecodePoolOptions) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.limits = options.limits;
    this.spawn = options.spawn ?? spawnDecodeWorker;
    for (let i = 0; i < this.size; i++) this.slots.push(this.start());
  }

  /** Jobs waiting for a free worker. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Resolves when every current worker has loaded its code and codecs. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /**
   * Decodes and preprocesses one file in a worker.
   *
   * @param bytes - the file; when it owns its whole ArrayBuffer the buffer is transferred (the caller's
   *   view is detached afterwards), otherwise it is copied
   * @param size - the model's square input side
   * @returns the `size × size` tensor and the image metadata
   * @throws ImageError as decodeImage would; DECODE_WORKER_CRASHED; DECODE_POOL_CLOSED
   */
  decode(bytes: Uint8Array, size: number): Promise<PreparedImage> {
    if (this.closed) return Promise.reject(new DecodePoolClosedError('The decode pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, bytes, size, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates the workers; queued and running jobs fail with DECODE_POOL_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new DecodePoolClosedError('The decode pool is closed');
    for (const job of this.queue.splice(0)) job.reject(error);
    for (const slot of this.slots) {
      slot.job?.reject(error);
      slot.job = null;
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private start(): Slot {
    const worker = this.spawn();
    let markReady!: () => void;
    const slot: Slot = { worker, job: null, ready: new Promise<void>((r) => (markReady = r)) };
    worker.on('message', (msg: DecodeWorkerMessage) => {
      if (msg.type === 'ready') return markReady();
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      slot.job = null;
      if (msg.type === 'done') job.resolve(msg.result);
      else job.reject(deserializeError(msg.error));
      this.dispatch();
    });
    worker.on('error', (error) => (slot.lastError = error));
    worker.on('exit', (exitCode) => {
      markReady();
      if (this.closed) return;
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.start();
      const job = slot.job;
      slot.job = null;
      job?.reject(
        new DecodeWorkerCrashedError('The decode worker stopped while decoding this image; it has been replaced', { exitCode }, { cause: slot.lastError }),
      );
      this.dispatch();
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      const { bytes } = job;
      const owns = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
      const buffer = owns ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
      const message: DecodeJobMessage = { id: job.id, bytes: buffer, byteOffset: 0, byteLength: bytes.byteLength, size: job.size, limits: this.limits };
      slot.worker.postMessage(message, [buffer]);
    }
  }
}

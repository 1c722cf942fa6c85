import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  PREPROCESSING_SPEC,
  type DecodedImageInfo,
  type ImageLimits,
  type PreprocessingId,
} from '../../imaging';
import type { ImagePreparer, PreparedImage } from '../image-preparer';
import { PreparedCache, type InputContract } from '../prepared-cache';
import { startWorkerScript } from '../worker-script';
import {
  DecodeJobMessage,
  DecodePoolClosedError,
  DecodeWorkerCrashedError,
  DecodeWorkerMessage,
  deserializeError,
  DecodedTensor,
} from './decode-job';

/** Starts one decode worker (`decode.worker`, compiled or from sources). */
export function spawnDecodeWorker(): Worker {
  return startWorkerScript(__dirname, 'decode.worker');
}

/** Knobs and ports of {@link DecodePool}. */
export interface DecodePoolOptions {
  /** Decoding limits (upload bytes, pixel count) applied in every worker. */
  limits: ImageLimits;
  /** Number of workers; default: the number of CPUs. */
  size?: number;
  /**
   * Jobs handed to one worker at a time (default 1). More lets a worker preprocess one image while
   * sharp decodes another on its native threads; on a busy 2-core machine it measured slower
   * (bench/decode-pool.bench.ts), hence the default.
   */
  jobsPerWorker?: number;
  /** Starts a worker; replaceable so a test can watch or kill workers. */
  spawn?: () => Worker;
  /** Prepared inputs by content (decode once: at upload); default 64 MiB. */
  cache?: PreparedCache;
}

interface Job {
  kind?: 'inspect';
  id: number;
  bytes: Uint8Array;
  size: number;
  preprocessing: PreprocessingId;
  resolve(value: DecodedTensor): void;
  /** How an `inspect` job answers. */
  inspected?(info: DecodedImageInfo, prepared?: DecodedTensor[]): void;
  /** `inspect`: the model inputs to prepare from the same decode. */
  contracts?: InputContract[];
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  ready: Promise<void>;
  lastError?: Error;
}

/**
 * A pool of worker threads that decode and preprocess uploads (decodeImage → quality check →
 * toModelTensor), and decode uploads at intake to validate them ({@link inspect}), so decoding never
 * blocks the event loop and uses every core; its size caps how many images decode at once. Bytes go to a worker
 * and the tensor comes back by transfer, not copy. An {@link ImageError} thrown in a worker arrives as
 * the same ImageError (code, details); a worker that dies is replaced and the jobs it held fail with
 * DECODE_WORKER_CRASHED.
 */
export class DecodePool implements ImagePreparer {
  /** Number of workers. */
  readonly size: number;
  private readonly limits: ImageLimits;
  private readonly spawn: () => Worker;
  private readonly jobsPerWorker: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly cache: PreparedCache;
  private nextId = 1;
  private closed = false;

  constructor(options: DecodePoolOptions) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.limits = options.limits;
    this.spawn = options.spawn ?? spawnDecodeWorker;
    this.jobsPerWorker = Math.max(1, options.jobsPerWorker ?? 1);
    this.cache = options.cache ?? new PreparedCache();
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
   * @param preprocessing - the model's input contract (model.json `preprocessing.id`)
   * @returns the `size × size` tensor and the image metadata
   * @throws ImageError as decodeImage would; DECODE_WORKER_CRASHED; DECODE_POOL_CLOSED
   */
  decode(
    bytes: Uint8Array,
    size: number,
    preprocessing: PreprocessingId = PREPROCESSING_SPEC,
  ): Promise<DecodedTensor> {
    if (this.closed) return Promise.reject(new DecodePoolClosedError('The decode pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, bytes, size, preprocessing, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * {@link ImagePreparer} port: {@link decode} mapped to the shape the analysis service consumes, so the
   * pool can replace `InlineImagePreparer` in the composition root.
   */
  async prepare(
    bytes: Uint8Array,
    size: number,
    preprocessing: PreprocessingId = PREPROCESSING_SPEC,
    contentSha256?: string,
  ): Promise<PreparedImage> {
    return this.cache.getOrPrepare(contentSha256, { size, preprocessing }, async () =>
      preparedOf(await this.decode(bytes, size, preprocessing), size, preprocessing),
    );
  }

  /** {@link ImagePreparer.prepared}: the input prepared at upload or by an earlier analysis. */
  prepared(contentSha256: string, size: number, preprocessing: PreprocessingId): PreparedImage | undefined {
    return this.cache.get(contentSha256, { size, preprocessing });
  }

  /**
   * {@link ImageInspector} port: decodes a file in full in a worker (every check of decodeImage) and
   * answers its description without pixels. The caller keeps its bytes (they are copied, not moved).
   */
  inspect(bytes: Uint8Array, contentSha256?: string): Promise<DecodedImageInfo> {
    if (this.closed) return Promise.reject(new DecodePoolClosedError('The decode pool is closed'));
    const contracts = contentSha256 ? [...this.cache.contracts] : [];
    return new Promise((resolve, reject) => {
      // Decoding only: no model input, so none of the preprocessing fields.
      const job: Partial<Job> & Omit<Job, 'preprocessing'> = {
        kind: 'inspect',
        id: this.nextId++,
        // A copy of its own (a Buffer's slice() is a view): the caller keeps its bytes to store them.
        bytes: new Uint8Array(bytes),
        size: 0,
        resolve: () => reject(new Error('an inspect job answered with a tensor')),
        inspected: (info, prepared = []) => {
          prepared.forEach((p, i) =>
            this.cache.set(contentSha256!, preparedOf(p, contracts[i]!.size, contracts[i]!.preprocessing)),
          );
          resolve(info);
        },
        contracts,
        reject,
      };
      this.queue.push(job as Job);
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
      for (const job of slot.jobs.values()) job.reject(error);
      slot.jobs.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private start(): Slot {
    const worker = this.spawn();
    let markReady!: () => void;
    const slot: Slot = { worker, jobs: new Map(), ready: new Promise<void>((r) => (markReady = r)) };
    worker.on('message', (msg: DecodeWorkerMessage) => {
      if (msg.type === 'ready') return markReady();
      const job = slot.jobs.get(msg.id);
      if (!job) return;
      slot.jobs.delete(msg.id);
      if (msg.type === 'done') job.resolve(msg.result);
      else if (msg.type === 'inspected') job.inspected?.(msg.info, msg.prepared);
      else job.reject(deserializeError(msg.error));
      this.dispatch();
    });
    worker.on('error', (error) => (slot.lastError = error));
    worker.on('exit', (exitCode) => {
      markReady();
      if (this.closed) return;
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.start();
      const crashed = new DecodeWorkerCrashedError(
        'The decode worker stopped while decoding this image; it has been replaced',
        { exitCode },
        { cause: slot.lastError },
      );
      for (const job of slot.jobs.values()) job.reject(crashed);
      slot.jobs.clear();
      this.dispatch();
    });
    return slot;
  }

  /** Hands queued jobs to the least loaded workers, up to `jobsPerWorker` each. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots)
        if (s.jobs.size < this.jobsPerWorker && (!slot || s.jobs.size < slot.jobs.size)) slot = s;
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.jobs.set(job.id, job);
      const { bytes } = job;
      const owns =
        bytes.byteOffset === 0 &&
        bytes.byteLength === bytes.buffer.byteLength &&
        bytes.buffer instanceof ArrayBuffer;
      const buffer = owns ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
      const message: DecodeJobMessage = {
        kind: job.kind,
        id: job.id,
        bytes: buffer,
        byteOffset: 0,
        byteLength: bytes.byteLength,
        size: job.size,
        preprocessing: job.preprocessing,
        limits: this.limits,
        contracts: job.contracts,
      };
      slot.worker.postMessage(message, [buffer]);
    }
  }
}

/** A worker's answer in the shape the analysis service consumes. */
function preparedOf(
  { tensor, meta }: DecodedTensor,
  size: number,
  preprocessing: PreprocessingId,
): PreparedImage {
  return {
    tensor,
    size,
    preprocessing,
    quality: meta.quality,
    width: meta.width,
    height: meta.height,
    format: meta.format,
    modality: meta.dicom?.modality ?? null,
    bodyPartExamined: meta.dicom?.bodyPartExamined ?? null,
    stats: meta.pixelStats,
    bitsStored: meta.bitsStored,
    intensityHistogram: meta.intensityHistogram,
  };
}

import { AppError, ErrorDetails } from '../../errors';
import type { Priority } from '../inference-engine';
import {
  CancelledError,
  DeadlineExceededError,
  InferenceFailedError,
  ModelNotLoadedError,
  QueueFullError,
} from './batching-errors';

/** Priority lanes in service order: strict priority between lanes, FIFO within one. */
export const PRIORITY_ORDER: readonly Priority[] = ['STAT', 'URGENT', 'ROUTINE'];

/** Triton-style dynamic batching knobs of one model version. */
export interface BatchingConfig {
  /** Most items in one `session.run`. */
  maxBatchSize: number;
  /**
   * How long the oldest queued item may wait for the batch to fill while the session is idle.
   * 0 flushes at once (whatever has queued while the previous batch ran). A queued STAT item always
   * flushes at once.
   */
  maxQueueDelayMs: number;
  /** Most items waiting (not yet running); beyond it requests are refused with QUEUE_FULL. */
  maxQueueSize: number;
  /** Refuse (QUEUE_FULL) when the predicted wait before a new item starts exceeds this. */
  maxPredictedWaitMs: number;
  /** Smoothing of the batch latency / size averages behind the prediction (0..1, weight of the newest batch). */
  ewmaAlpha?: number;
  /**
   * Independent model instances that run batches side by side (Triton's instance group; default 1).
   * A batch goes to the least busy instance; one that finds an instance idle starts at once, whatever
   * its size. With more than one, a batch dispatched while nothing runs and nothing else waits runs
   * *exclusively*: the executor is told so (it may use every core for it, e.g. one session with every
   * intra-op thread, for the best latency at light load) and nothing else starts until it finishes.
   */
  instances?: number;
  /**
   * Batches one instance holds at once (default 1). With 2, a session that queues runs on its own
   * thread (the worker session) is handed a full batch (or one with a STAT item) while it still runs
   * the previous one, so it starts it without an idle gap; smaller batches wait for an idle instance,
   * so pipelining never shrinks batches.
   */
  pipelineDepth?: number;
  /**
   * Whether the host's cores are already busy (see `HostLoad`): a batch that is alone then runs on an
   * instance like any other instead of exclusively, since every intra-op thread only helps on idle
   * cores. Asked only when a batch is alone and there are several instances. Default: never busy.
   */
  hostBusy?: () => boolean;
}

/** Defaults: batches up to 16, no added delay, 1024 queued at most, refuse beyond 10 s of predicted wait. */
export const DEFAULT_BATCHING_CONFIG: Required<BatchingConfig> = {
  maxBatchSize: 16,
  maxQueueDelayMs: 0,
  maxQueueSize: 1024,
  maxPredictedWaitMs: 10_000,
  ewmaAlpha: 0.2,
  instances: 1,
  pipelineDepth: 1,
  hostBusy: () => false,
};

/** Where the batcher placed one batch (see {@link BatchingConfig.instances}). */
export interface BatchPlacement {
  /**
   * True when nothing runs beside this batch on another instance until it finishes (always so with
   * one instance); the executor may then use every core for it.
   */
  exclusive: boolean;
  /** The instance (0-based) it runs on; with `exclusive` and several instances, none of them is busy. */
  instance: number;
}

/** Runs one batch; must return one output per item, in order. */
export type BatchExecutor<I, O> = (items: readonly I[], placement: BatchPlacement) => Promise<O[]>;

/** Per-request admission options. */
export interface SubmitOptions {
  priority: Priority;
  /** Absolute deadline (ms since epoch) by which the item must have started. */
  deadline?: number;
  /** Aborting removes the item from the queue (no effect once it is running). */
  signal?: AbortSignal;
}

/** How one item was served. */
export interface BatchTimings {
  /** From admission to the start of its batch. */
  queueMs: number;
  /**
   * Duration of the batch's run: from its executor call, or, for a pipelined batch, from the end of the
   * batch ahead of it, to its end.
   */
  inferenceMs: number;
  /** Items in its batch. */
  batchSize: number;
}

/** One item's output and how it was served. */
export interface Served<O> {
  output: O;
  timings: BatchTimings;
}

/** Throughput statistics behind admission control. */
export interface BatcherStats {
  batches: number;
  items: number;
  /** EWMA of batch latency, null before the first batch. */
  ewmaBatchMs: number | null;
  /** EWMA of batch size, null before the first batch. */
  ewmaBatchSize: number | null;
}

/** Longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Retry hint used before any batch has been measured. */
const UNMEASURED_RETRY_AFTER_MS = 1000;

interface Entry<I, O> {
  item: I;
  priority: Priority;
  state: 'QUEUED' | 'RUNNING' | 'DONE';
  enqueuedAt: number;
  deadline?: number;
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve(value: Served<O>): void;
  reject(error: unknown): void;
}

/** A FIFO with O(1) shift; cancelled entries are skipped lazily. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * Dynamic batcher for one model version (Triton-style): a bounded queue with admission control,
 * priority lanes (STAT > URGENT > ROUTINE), per-item deadlines and cancellation, and batches placed on
 * one or more model instances — one batch per instance, or, with `pipelineDepth` 2, a second full
 * batch queued behind the running one for a session that runs its calls in order; with several
 * instances a batch that is alone runs exclusively (see {@link BatchingConfig.instances}).
 * Transport- and model-free: the executor stacks and splits tensors.
 */
export class DynamicBatcher<I, O> {
  private readonly config: Required<BatchingConfig>;
  private readonly queues = new Map<Priority, Fifo<Entry<I, O>>>(PRIORITY_ORDER.map((p) => [p, new Fifo()]));
  private readonly laneDepth: Record<Priority, number> = { STAT: 0, URGENT: 0, ROUTINE: 0 };
  private depth = 0;
  private runningCount = 0;
  private runningBatches = 0;
  /** Per instance: batches it holds, when its current one started, when its last one finished. */
  private readonly lanes: { running: number; currentSince: number; lastFinishedAt: number }[];
  /** A batch runs exclusively beside idle instances: nothing else starts until it finishes. */
  private exclusiveRunning = false;
  private exclusiveSince = 0;
  private pumpScheduled = false;
  private delayTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private stat: BatcherStats = { batches: 0, items: 0, ewmaBatchMs: null, ewmaBatchSize: null };

  /**
   * @param executor - runs one batch (one `session.run`)
   * @param config - batching knobs; missing ones take {@link DEFAULT_BATCHING_CONFIG}
   * @param context - ids added to error details (e.g. task and version)
   */
  constructor(
    private readonly executor: BatchExecutor<I, O>,
    config: Partial<BatchingConfig> = {},
    private readonly context: { task: string; version: string } = { task: '', version: '' },
  ) {
    this.config = { ...DEFAULT_BATCHING_CONFIG, ...stripUndefined(config) };
    if (!(this.config.maxBatchSize >= 1)) throw new RangeError('maxBatchSize must be >= 1');
    if (!(this.config.maxQueueSize >= 1)) throw new RangeError('maxQueueSize must be >= 1');
    if (!(this.config.maxQueueDelayMs >= 0)) throw new RangeError('maxQueueDelayMs must be >= 0');
    if (!Number.isInteger(this.config.instances) || this.config.instances < 1)
      throw new RangeError('instances must be an integer >= 1');
    if (!Number.isInteger(this.config.pipelineDepth) || this.config.pipelineDepth < 1)
      throw new RangeError('pipelineDepth must be an integer >= 1');
    this.lanes = Array.from({ length: this.config.instances }, () => ({
      running: 0,
      currentSince: 0,
      lastFinishedAt: 0,
    }));
  }

  /** Items waiting to start. */
  get queueDepth(): number {
    return this.depth;
  }

  /** Items waiting to start, per priority lane. */
  get queueDepthByPriority(): Record<Priority, number> {
    return { ...this.laneDepth };
  }

  /** Items admitted and not yet settled (waiting or running). */
  get inFlight(): number {
    return this.depth + this.runningCount;
  }

  /** Batch statistics. */
  stats(): BatcherStats {
    return { ...this.stat };
  }

  /**
   * Predicted time before a new item of this priority would start: until the soonest instance can take
   * a batch (the rest of its running batch and of any handed to it behind that), plus the items ahead of
   * it (same or higher lanes) divided by the measured throughput (EWMA batch size × instances / EWMA
   * batch latency). 0 before the first batch has been measured.
   */
  predictedWaitMs(priority: Priority): number {
    const { ewmaBatchMs, ewmaBatchSize } = this.stat;
    if (ewmaBatchMs === null || ewmaBatchSize === null) return 0;
    let ahead = 0;
    for (const p of PRIORITY_ORDER) {
      ahead += this.laneDepth[p];
      if (p === priority) break;
    }
    const now = performance.now();
    let soonest = Infinity;
    for (const lane of this.lanes) {
      const free = lane.running === 0 ? 0 : lane.running * ewmaBatchMs - (now - lane.currentSince);
      soonest = Math.min(soonest, Math.max(0, free));
    }
    // An exclusive batch holds every instance until it finishes.
    if (this.exclusiveRunning) soonest = Math.max(0, ewmaBatchMs - (now - this.exclusiveSince));
    return soonest + (ahead * ewmaBatchMs) / (ewmaBatchSize * this.config.instances);
  }

  /**
   * Admits one item. Resolves when its batch has run; rejects with QUEUE_FULL (at admission),
   * DEADLINE_EXCEEDED, CANCELLED (before it starts) or INFERENCE_FAILED (its batch failed).
   */
  submit(item: I, options: SubmitOptions): Promise<Served<O>> {
    const { task, version } = this.context;
    if (this.closed)
      return Promise.reject(
        new ModelNotLoadedError('The model version is being unloaded', { task, version }),
      );
    if (options.signal?.aborted)
      return Promise.reject(new CancelledError('The request was cancelled', { task, version }));
    const now = Date.now();
    if (options.deadline !== undefined && options.deadline <= now) {
      return Promise.reject(
        new DeadlineExceededError('The request deadline passed before it could start', { task, version }),
      );
    }
    const admission = this.admission(options.priority);
    if (admission) return Promise.reject(admission);

    return new Promise<Served<O>>((resolve, reject) => {
      const entry: Entry<I, O> = {
        item,
        priority: options.priority,
        state: 'QUEUED',
        enqueuedAt: performance.now(),
        resolve,
        reject,
      };
      entry.deadline = options.deadline;
      // Beyond setTimeout's 2^31-1 ms range the timer would fire at once; batch formation still checks.
      if (options.deadline !== undefined && options.deadline - now <= MAX_TIMER_MS) {
        entry.timer = setTimeout(
          () =>
            this.dropQueued(
              entry,
              new DeadlineExceededError('The request deadline passed before it could start', {
                task,
                version,
              }),
            ),
          options.deadline - now,
        );
      }
      if (options.signal) {
        entry.signal = options.signal;
        entry.onAbort = () =>
          this.dropQueued(entry, new CancelledError('The request was cancelled', { task, version }));
        options.signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.queues.get(entry.priority)!.push(entry);
      this.laneDepth[entry.priority]++;
      this.depth++;
      this.schedule();
    });
  }

  /** Stops admitting (new submits reject with MODEL_NOT_LOADED) and resolves once every admitted item has settled. */
  close(): Promise<void> {
    this.closed = true;
    return this.drained();
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private admission(priority: Priority): QueueFullError | null {
    const { task, version } = this.context;
    const predicted = this.predictedWaitMs(priority);
    const ewma = this.stat.ewmaBatchMs;
    if (this.depth >= this.config.maxQueueSize) {
      return new QueueFullError({
        task,
        version,
        reason: 'CAPACITY',
        retryAfterMs: Math.max(1, Math.ceil(ewma ?? UNMEASURED_RETRY_AFTER_MS)),
        queueDepth: this.depth,
        predictedWaitMs: Math.round(predicted),
      });
    }
    if (predicted > this.config.maxPredictedWaitMs) {
      return new QueueFullError({
        task,
        version,
        reason: 'PREDICTED_WAIT',
        retryAfterMs: Math.max(1, Math.ceil(predicted - this.config.maxPredictedWaitMs)),
        queueDepth: this.depth,
        predictedWaitMs: Math.round(predicted),
      });
    }
    return null;
  }

  private dropQueued(entry: Entry<I, O>, error: AppError): void {
    if (entry.state !== 'QUEUED') return;
    entry.state = 'DONE';
    this.detach(entry);
    this.laneDepth[entry.priority]--;
    this.depth--;
    entry.reject(error);
    this.checkDrained();
  }

  private detach(entry: Entry<I, O>): void {
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort);
    entry.timer = undefined;
    entry.onAbort = undefined;
  }

  /** Defers the flush decision to a microtask so items submitted in the same tick share a batch. */
  private schedule(): void {
    if (this.pumpScheduled || this.exclusiveRunning) return;
    if (this.runningBatches >= this.config.instances * this.config.pipelineDepth) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private peekLive(lane: Fifo<Entry<I, O>>): Entry<I, O> | undefined {
    let head = lane.peek();
    while (head && head.state !== 'QUEUED') {
      lane.shift();
      head = lane.peek();
    }
    return head;
  }

  /** Dispatches batches while the executor has room and something waits (or sets the delay timer). */
  private pump(): void {
    while (this.dispatchOne());
  }

  /** Dispatches one batch if the rules allow; true when it did. */
  private dispatchOne(): boolean {
    const { maxQueueDelayMs, maxBatchSize, instances, pipelineDepth } = this.config;
    if (this.exclusiveRunning || this.depth === 0) return false;
    // The least busy instance takes the batch.
    let instance = 0;
    for (let i = 1; i < instances; i++)
      if (this.lanes[i]!.running < this.lanes[instance]!.running) instance = i;
    const held = this.lanes[instance]!.running;
    if (held >= pipelineDepth) return false;
    // An idle instance takes whatever waits. Behind a running batch, only a full batch or a STAT item
    // is worth queueing: anything smaller waits and grows until an instance is idle.
    if (held > 0 && this.depth < maxBatchSize && this.laneDepth.STAT === 0) return false;
    if (maxQueueDelayMs > 0 && this.depth < maxBatchSize && this.laneDepth.STAT === 0) {
      let oldest = Infinity;
      for (const lane of this.queues.values())
        oldest = Math.min(oldest, this.peekLive(lane)?.enqueuedAt ?? Infinity);
      const wait = oldest + maxQueueDelayMs - performance.now();
      if (wait > 0) {
        if (!this.delayTimer) {
          this.delayTimer = setTimeout(() => {
            this.delayTimer = undefined;
            this.pump();
          }, wait);
        }
        return false;
      }
    }
    if (this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    const batch = this.take();
    if (!batch.length) return false;
    // A batch alone (nothing running, nothing left waiting) may use the whole machine, when the
    // machine's cores are not busy with other work already.
    const exclusive =
      instances === 1 || (this.runningBatches === 0 && this.depth === 0 && !this.config.hostBusy());
    void this.execute(batch, { exclusive, instance });
    return true;
  }

  private take(): Entry<I, O>[] {
    const batch: Entry<I, O>[] = [];
    const now = Date.now();
    const { task, version } = this.context;
    for (const lane of this.queues.values()) {
      while (batch.length < this.config.maxBatchSize) {
        const entry = this.peekLive(lane);
        if (!entry) break;
        if (entry.deadline !== undefined && entry.deadline <= now) {
          this.dropQueued(
            entry,
            new DeadlineExceededError('The request deadline passed before it could start', { task, version }),
          );
          continue;
        }
        lane.shift();
        entry.state = 'RUNNING';
        this.detach(entry);
        this.laneDepth[entry.priority]--;
        this.depth--;
        batch.push(entry);
      }
    }
    return batch;
  }

  private async execute(batch: Entry<I, O>[], placement: BatchPlacement): Promise<void> {
    const dispatched = performance.now();
    const lane = this.lanes[placement.instance]!;
    if (lane.running++ === 0) lane.currentSince = dispatched;
    this.runningBatches++;
    const holdsAll = placement.exclusive && this.config.instances > 1;
    if (holdsAll) {
      this.exclusiveRunning = true;
      this.exclusiveSince = dispatched;
    }
    this.runningCount += batch.length;
    let outputs: O[] | undefined;
    let failure: unknown;
    try {
      outputs = await this.executor(
        batch.map((e) => e.item),
        placement,
      );
      if (outputs.length !== batch.length)
        throw new Error(`executor returned ${outputs.length} outputs for ${batch.length} items`);
    } catch (error) {
      failure = error;
    }
    const finished = performance.now();
    if (holdsAll) this.exclusiveRunning = false;
    // An instance runs its batches in order: one handed to it while another ran started when that one
    // finished.
    const started = Math.max(dispatched, lane.lastFinishedAt);
    lane.lastFinishedAt = finished;
    if (--lane.running > 0) lane.currentSince = finished;
    const inferenceMs = finished - started;
    this.record(batch.length, inferenceMs);
    const failed =
      failure === undefined
        ? undefined
        : new InferenceFailedError(
            'The model failed to run this batch',
            { ...this.context, batchSize: batch.length } satisfies ErrorDetails,
            { cause: failure },
          );
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i]!;
      entry.state = 'DONE';
      if (failed) entry.reject(failed);
      else
        entry.resolve({
          output: outputs![i]!,
          timings: { queueMs: started - entry.enqueuedAt, inferenceMs, batchSize: batch.length },
        });
    }
    this.runningCount -= batch.length;
    this.runningBatches--;
    this.checkDrained();
    this.pump();
  }

  private record(size: number, ms: number): void {
    const a = this.config.ewmaAlpha;
    const s = this.stat;
    s.batches++;
    s.items += size;
    s.ewmaBatchMs = s.ewmaBatchMs === null ? ms : a * ms + (1 - a) * s.ewmaBatchMs;
    s.ewmaBatchSize = s.ewmaBatchSize === null ? size : a * size + (1 - a) * s.ewmaBatchSize;
  }

  private checkDrained(): void {
    if (this.inFlight !== 0 || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import { AppError } from '../../errors';
import { BatchPlacement, DynamicBatcher, Served } from './dynamic-batcher';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A session stand-in whose batches finish only when the test says so; records every batch and the concurrency. */
class ControlledExecutor {
  readonly batches: string[][] = [];
  /** Whether each batch (same index) was placed exclusively. */
  readonly exclusive: boolean[] = [];
  /** The instance each batch (same index) was placed on. */
  readonly instance: number[] = [];
  private readonly pending: Deferred<string[]>[] = [];
  private running = 0;
  maxConcurrent = 0;

  readonly run = (items: readonly string[], placement: BatchPlacement): Promise<string[]> => {
    this.batches.push([...items]);
    this.exclusive.push(placement.exclusive);
    this.instance.push(placement.instance);
    this.running++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running);
    const d = deferred<string[]>();
    this.pending.push(d);
    return d.promise.finally(() => this.running--);
  };

  get inProgress(): number {
    return this.pending.length;
  }

  /** Completes the oldest running batch, answering `out:<item>` per item. */
  finish(): void {
    const d = this.pending.shift();
    if (!d) throw new Error('no batch is running');
    d.resolve(this.batches[this.batches.length - 1 - this.pending.length]!.map((i) => `out:${i}`));
  }

  fail(error: unknown): void {
    const d = this.pending.shift();
    if (!d) throw new Error('no batch is running');
    d.reject(error);
  }
}

/** Lets queued microtasks and promise continuations run (real setImmediate; timers may be fake). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** Captures the settled state of a promise without awaiting it. */
function track<T>(p: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const s: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  p.then(
    (v) => Object.assign(s, { value: v, settled: true }),
    (e) => Object.assign(s, { error: e, settled: true }),
  );
  return s;
}

function codeOf(e: unknown): string | undefined {
  return e instanceof AppError ? e.code : undefined;
}

const ROUTINE = { priority: 'ROUTINE' as const };

/** The batching knobs of the model-instance blocks: batches of 4 over two instances. */
const instances = { maxBatchSize: 4, instances: 2 };

describe('DynamicBatcher: forming batches', () => {
  afterEach(() => jest.useRealTimers());

  it('flushes at once when idle (max queue delay 0) and batches what queued while the session was busy', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 8, maxQueueDelayMs: 0 });
    const first = b.submit('a', ROUTINE);
    await settle();
    expect(ex.batches).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map((x) => b.submit(x, ROUTINE));
    await settle();
    expect(ex.batches).toHaveLength(1);
    expect(b.queueDepth).toBe(3);
    ex.finish();
    await expect(first).resolves.toMatchObject({ output: 'out:a', timings: { batchSize: 1 } });
    await settle();
    expect(ex.batches[1]).toEqual(['b', 'c', 'd']);
    ex.finish();
    const served = await Promise.all(rest);
    expect(served.map((s) => s.output)).toEqual(['out:b', 'out:c', 'out:d']);
    expect(served.every((s) => s.timings.batchSize === 3)).toBe(true);
  });

  it('forms batches up to maxBatchSize and runs exactly one batch at a time', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 4 });
    const all = Array.from({ length: 10 }, (_, i) => b.submit(`i${i}`, ROUTINE));
    for (let k = 0; k < 3; k++) {
      await settle();
      expect(ex.inProgress).toBe(1);
      ex.finish();
    }
    const served = await Promise.all(all);
    expect(ex.batches.map((x) => x.length)).toEqual([4, 4, 2]);
    expect(ex.maxConcurrent).toBe(1);
    expect(served.map((s) => s.output)).toEqual(Array.from({ length: 10 }, (_, i) => `out:i${i}`));
  });

  it('waits up to maxQueueDelayMs to fill a batch, and flushes early when the batch is full or a STAT item arrives', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 4, maxQueueDelayMs: 50 });

    const p1 = [b.submit('a', ROUTINE), b.submit('b', ROUTINE)];
    await settle();
    await jest.advanceTimersByTimeAsync(49);
    await settle();
    expect(ex.batches).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    await settle();
    expect(ex.batches).toEqual([['a', 'b']]);
    ex.finish();
    await Promise.all(p1);

    const p2 = ['c', 'd', 'e', 'f'].map((x) => b.submit(x, ROUTINE));
    await settle();
    expect(ex.batches[1]).toEqual(['c', 'd', 'e', 'f']);
    ex.finish();
    await Promise.all(p2);

    const p3 = [b.submit('g', ROUTINE), b.submit('s', { priority: 'STAT' })];
    await settle();
    expect(ex.batches[2]).toEqual(['s', 'g']);
    ex.finish();
    await Promise.all(p3);
  });
});

describe('DynamicBatcher: pipelining', () => {
  afterEach(() => jest.useRealTimers());

  it('with pipelineDepth 2, queues a second full batch behind the running one, but never a partial one', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 4, pipelineDepth: 2 });
    const first = b.submit('a', ROUTINE);
    await settle();
    expect(ex.batches).toEqual([['a']]);
    // Three items behind a running batch: not a full batch, so they wait and grow.
    const partial = ['b', 'c', 'd'].map((x) => b.submit(x, ROUTINE));
    await settle();
    expect(ex.inProgress).toBe(1);
    // The fourth fills the batch: it is handed over while the first still runs.
    const fourth = b.submit('e', ROUTINE);
    await settle();
    expect(ex.batches[1]).toEqual(['b', 'c', 'd', 'e']);
    expect(ex.maxConcurrent).toBe(2);
    // A full third batch must wait: two are in flight already.
    const more = Array.from({ length: 4 }, (_, i) => b.submit(`f${i}`, ROUTINE));
    await settle();
    expect(ex.batches).toHaveLength(2);
    expect(b.queueDepth).toBe(4);
    ex.finish();
    await first;
    await settle();
    expect(ex.batches[2]).toEqual(['f0', 'f1', 'f2', 'f3']);
    ex.finish();
    ex.finish();
    const served = await Promise.all([...partial, fourth, ...more]);
    expect(served.map((x) => x.output)).toEqual([
      'out:b',
      'out:c',
      'out:d',
      'out:e',
      'out:f0',
      'out:f1',
      'out:f2',
      'out:f3',
    ]);
    expect(ex.maxConcurrent).toBe(2);
    await b.drained();
    expect(b.inFlight).toBe(0);
  });

  it('times a pipelined batch from the end of the batch ahead of it, not from its hand-over', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 2, pipelineDepth: 2 });
    const one = b.submit('a', ROUTINE);
    await settle();
    const two = [b.submit('b', ROUTINE), b.submit('c', ROUTINE)];
    await settle();
    expect(ex.inProgress).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    ex.finish();
    const first = await one;
    expect(first.timings.inferenceMs).toBeGreaterThanOrEqual(55);
    await new Promise((r) => setTimeout(r, 20));
    ex.finish();
    const [b1] = await Promise.all(two);
    // It ran ~20 ms after the first batch ended; the 60 ms it waited behind it count as queueing.
    expect(b1!.timings.inferenceMs).toBeLessThan(50);
    expect(b1!.timings.queueMs).toBeGreaterThanOrEqual(55);
  });

  it('dispatches a STAT item behind a running batch at once when pipelining', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 8, pipelineDepth: 2 });
    void b.submit('routine', ROUTINE);
    await settle();
    void b.submit('stat', { priority: 'STAT' });
    await settle();
    expect(ex.batches).toEqual([['routine'], ['stat']]);
    ex.finish();
    ex.finish();
    await b.drained();
  });
});

describe('DynamicBatcher with model instances: placement', () => {
  afterEach(() => jest.useRealTimers());

  it('runs a batch that is alone exclusively and starts nothing beside it, even a full batch', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, instances);
    const first = b.submit('a', ROUTINE);
    await settle();
    expect(ex.batches).toEqual([['a']]);
    expect(ex.exclusive).toEqual([true]);
    const behind = ['b', 'c', 'd', 'e', 'f'].map((x) => b.submit(x, ROUTINE));
    await settle();
    expect(ex.inProgress).toBe(1); // a full batch waits for the exclusive one
    ex.finish();
    await first;
    await settle();
    // A backlog: two batches at once, neither exclusive, the second one partial.
    expect(ex.batches.slice(1)).toEqual([['b', 'c', 'd', 'e'], ['f']]);
    expect(ex.exclusive.slice(1)).toEqual([false, false]);
    expect(ex.maxConcurrent).toBe(2);
    ex.finish();
    ex.finish();
    expect((await Promise.all(behind)).map((x) => x.output)).toEqual(
      ['b', 'c', 'd', 'e', 'f'].map((x) => `out:${x}`),
    );
    await b.drained();
  });

  it('starts whatever waits on a free instance at once while another runs, never more batches than instances', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, instances);
    const all = ['a', 'b', 'c', 'd', 'e'].map((x) => b.submit(x, ROUTINE)); // one tick: a backlog
    await settle();
    expect(ex.batches).toEqual([['a', 'b', 'c', 'd'], ['e']]);
    expect(ex.exclusive).toEqual([false, false]);
    const later = ['f', 'g'].map((x) => b.submit(x, ROUTINE));
    await settle();
    expect(ex.inProgress).toBe(2); // both instances busy: f and g wait
    ex.finish();
    await settle();
    // One instance is free while the other still runs: f and g start there at once, not exclusively.
    expect(ex.batches[2]).toEqual(['f', 'g']);
    expect(ex.exclusive[2]).toBe(false);
    ex.finish();
    ex.finish();
    await Promise.all([...all, ...later]);
    // Alone again: the next batch may use the whole machine.
    const alone = b.submit('h', ROUTINE);
    await settle();
    expect(ex.exclusive.at(-1)).toBe(true);
    ex.finish();
    await alone;
    expect(ex.maxConcurrent).toBe(2);
  });
});

describe('DynamicBatcher with model instances: a busy host', () => {
  it('runs a lone batch on an instance, not exclusively, while the host is busy, and exclusively again once it is not', async () => {
    const ex = new ControlledExecutor();
    let busy = true;
    let asked = 0;
    const b = new DynamicBatcher(ex.run, {
      ...instances,
      hostBusy: () => {
        asked++;
        return busy;
      },
    });
    const first = b.submit('a', ROUTINE);
    await settle();
    expect(ex.exclusive).toEqual([false]);
    // Not exclusive: a batch that arrives meanwhile starts at once on the other instance.
    const second = b.submit('b', ROUTINE);
    await settle();
    expect(ex.batches).toEqual([['a'], ['b']]);
    expect(ex.instance).toEqual([0, 1]);
    expect(asked).toBe(1); // asked only for the batch that was alone
    ex.finish();
    ex.finish();
    await Promise.all([first, second]);
    busy = false;
    const third = b.submit('c', ROUTINE);
    await settle();
    expect(ex.exclusive.at(-1)).toBe(true);
    ex.finish();
    await third;
    await b.drained();
  });

  it('never asks with one instance (its one session takes every batch)', async () => {
    const ex = new ControlledExecutor();
    const hostBusy = jest.fn(() => true);
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 4, hostBusy });
    const one = b.submit('a', ROUTINE);
    await settle();
    expect(ex.exclusive).toEqual([true]);
    expect(hostBusy).not.toHaveBeenCalled();
    ex.finish();
    await one;
  });
});

describe('DynamicBatcher with model instances: pipelining and timing', () => {
  afterEach(() => jest.useRealTimers());

  it('with pipelineDepth 2, hands a busy instance only a full batch behind its running one, the least busy first', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { ...instances, maxBatchSize: 2, pipelineDepth: 2 });
    const first = ['a', 'b', 'c', 'd'].map((x) => b.submit(x, ROUTINE));
    await settle();
    expect(ex.batches).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(ex.instance).toEqual([0, 1]);
    const partial = b.submit('e', ROUTINE);
    await settle();
    expect(ex.inProgress).toBe(2); // both instances busy: one item is not worth queueing behind
    const full = b.submit('f', ROUTINE);
    const more = ['g', 'h', 'i', 'j'].map((x) => b.submit(x, ROUTINE));
    await settle();
    // Full batches go behind the running ones, one per instance; the rest waits (depth 2 each).
    expect(ex.batches.slice(2)).toEqual([
      ['e', 'f'],
      ['g', 'h'],
    ]);
    expect(ex.instance.slice(2)).toEqual([0, 1]);
    expect(b.queueDepth).toBe(2);
    for (let i = 0; i < 5; i++) {
      if (ex.inProgress) ex.finish();
      await settle();
    }
    await Promise.all([...first, partial, full, ...more]);
    expect(ex.maxConcurrent).toBe(4);
  });

  it('times each batch from its own dispatch and predicts the wait from the throughput of all instances', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { ...instances, maxBatchSize: 1, ewmaAlpha: 1 });
    const warm = b.submit('warm', ROUTINE);
    await settle();
    await jest.advanceTimersByTimeAsync(100);
    ex.finish();
    await warm;
    const two = [b.submit('a', ROUTINE), b.submit('b', ROUTINE)];
    await settle();
    expect(ex.inProgress).toBe(2);
    await jest.advanceTimersByTimeAsync(40);
    const queued = ['c', 'd', 'e', 'f'].map((x) => b.submit(x, ROUTINE));
    // Both instances busy: the first frees in 100 - 40 ms; then 4 items at 2 per 100 ms.
    expect(b.predictedWaitMs('ROUTINE')).toBeCloseTo(60 + 200);
    await jest.advanceTimersByTimeAsync(60);
    ex.finish();
    ex.finish();
    const [a] = await Promise.all(two);
    expect(a!.timings.inferenceMs).toBeCloseTo(100);
    for (let i = 0; i < 4; i++) {
      await settle();
      ex.finish();
    }
    await Promise.all(queued);
  });
});

describe('DynamicBatcher: admission (QUEUE_FULL)', () => {
  afterEach(() => jest.useRealTimers());

  it('refuses with QUEUE_FULL and a retry hint when the queue is at capacity', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(
      ex.run,
      { maxBatchSize: 1, maxQueueSize: 3 },
      { task: 'chest', version: 'v1' },
    );
    const admitted = [b.submit('a', ROUTINE)];
    await settle();
    admitted.push(...['b', 'c', 'd'].map((x) => b.submit(x, ROUTINE)));
    expect(b.queueDepth).toBe(3);
    const refused = await b.submit('e', ROUTINE).catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('QUEUE_FULL');
    expect((refused as AppError).httpStatus).toBe(503);
    expect((refused as AppError).details).toMatchObject({
      task: 'chest',
      version: 'v1',
      reason: 'CAPACITY',
      queueDepth: 3,
    });
    expect((refused as AppError).details.retryAfterMs).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) {
      ex.finish();
      await settle();
    }
    await Promise.all(admitted);
  });

  it('refuses with QUEUE_FULL when the predicted wait (depth / measured throughput) exceeds the limit, per priority lane', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 1, maxPredictedWaitMs: 250, ewmaAlpha: 1 });
    expect(b.predictedWaitMs('ROUTINE')).toBe(0);
    const warm = b.submit('warm', ROUTINE);
    await settle();
    await jest.advanceTimersByTimeAsync(100);
    ex.finish();
    await warm;
    expect(b.stats()).toMatchObject({ batches: 1, ewmaBatchMs: 100, ewmaBatchSize: 1 });

    const admitted = ['a', 'b', 'c'].map((x) => b.submit(x, ROUTINE));
    await settle();
    expect(ex.inProgress).toBe(1);
    // 'a' runs (100 ms left), 'b' and 'c' wait: a new ROUTINE item would start after 100 + 2 × 100 ms.
    expect(b.predictedWaitMs('ROUTINE')).toBeCloseTo(300);
    const refused = await b.submit('d', ROUTINE).catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('QUEUE_FULL');
    expect((refused as AppError).details).toMatchObject({
      reason: 'PREDICTED_WAIT',
      retryAfterMs: 50,
      predictedWaitMs: 300,
    });
    // A STAT item only waits behind STAT items and the running batch.
    const stat = b.submit('s', { priority: 'STAT' });
    for (let i = 0; i < 4; i++) {
      ex.finish();
      await settle();
    }
    await Promise.all([...admitted, stat]);
    expect(ex.batches.slice(1)).toEqual([['a'], ['s'], ['b'], ['c']]);
  });
});

describe('DynamicBatcher: deadlines and cancellation', () => {
  afterEach(() => jest.useRealTimers());

  it('fails a request with DEADLINE_EXCEEDED when it has not started by its deadline, and never runs it', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 4 });
    const running = b.submit('a', ROUTINE);
    await settle();
    const late = track(b.submit('late', { priority: 'ROUTINE', deadline: Date.now() + 50 }));
    const onTime = b.submit('ok', { priority: 'ROUTINE', deadline: Date.now() + 5000 });
    await jest.advanceTimersByTimeAsync(49);
    expect(late.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await settle();
    expect(codeOf(late.error)).toBe('DEADLINE_EXCEEDED');
    expect(b.queueDepth).toBe(1);
    ex.finish();
    await running;
    await settle();
    expect(ex.batches[1]).toEqual(['ok']);
    ex.finish();
    await onTime;
    const past = await b
      .submit('past', { priority: 'ROUTINE', deadline: Date.now() - 1 })
      .catch((e: unknown) => e);
    expect(codeOf(past)).toBe('DEADLINE_EXCEEDED');
  });

  it('does not expire at once a request whose deadline is beyond the range of setTimeout', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 4 });
    const first = b.submit('a', ROUTINE);
    await settle();
    const far = track(b.submit('far', { priority: 'ROUTINE', deadline: Date.now() + 30 * 24 * 3600 * 1000 }));
    await new Promise((r) => setTimeout(r, 5));
    expect(far.settled).toBe(false);
    ex.finish();
    await first;
    await settle();
    ex.finish();
    await settle();
    expect(far.value?.output).toBe('out:far');
  });

  it('removes a cancelled request from the queue with CANCELLED; cancelling after it started has no effect', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 4 });
    const startedCtl = new AbortController();
    const started = b.submit('a', { priority: 'ROUTINE', signal: startedCtl.signal });
    await settle();
    const ctl = new AbortController();
    const cancelled = b.submit('x', { priority: 'ROUTINE', signal: ctl.signal });
    const kept = b.submit('y', ROUTINE);
    await settle();
    expect(b.queueDepth).toBe(2);
    ctl.abort();
    startedCtl.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(b.queueDepth).toBe(1);
    ex.finish();
    await expect(started).resolves.toMatchObject({ output: 'out:a' });
    await settle();
    expect(ex.batches[1]).toEqual(['y']);
    ex.finish();
    await kept;
    const pre = new AbortController();
    pre.abort();
    await expect(b.submit('z', { priority: 'ROUTINE', signal: pre.signal })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });
});

describe('DynamicBatcher: priority lanes, failures and close', () => {
  afterEach(() => jest.useRealTimers());

  it('serves STAT before URGENT before ROUTINE, FIFO within a lane', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 3 });
    const all: Promise<Served<string>>[] = [b.submit('first', ROUTINE)];
    await settle();
    all.push(
      b.submit('r1', ROUTINE),
      b.submit('r2', ROUTINE),
      b.submit('u1', { priority: 'URGENT' }),
      b.submit('s1', { priority: 'STAT' }),
      b.submit('r3', ROUTINE),
      b.submit('u2', { priority: 'URGENT' }),
      b.submit('s2', { priority: 'STAT' }),
    );
    for (let i = 0; i < 4; i++) {
      await settle();
      ex.finish();
    }
    await Promise.all(all);
    expect(ex.batches).toEqual([['first'], ['s1', 's2', 'u1'], ['u2', 'r1', 'r2'], ['r3']]);
  });

  it('fails only the batch whose run threw (INFERENCE_FAILED with the cause) and goes on with the next', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 2 }, { task: 'chest', version: 'v1' });
    const a = b.submit('a', ROUTINE);
    await settle();
    const next = [b.submit('b', ROUTINE), b.submit('c', ROUTINE)];
    const boom = new Error('onnx exploded');
    ex.fail(boom);
    const error = await a.catch((e: unknown) => e);
    expect(codeOf(error)).toBe('INFERENCE_FAILED');
    expect((error as AppError).details).toMatchObject({ task: 'chest', version: 'v1', batchSize: 1 });
    expect((error as Error).cause).toBe(boom);
    await settle();
    ex.finish();
    expect((await Promise.all(next)).map((s) => s.output)).toEqual(['out:b', 'out:c']);
  });

  it('fails the batch when the executor returns the wrong number of outputs', async () => {
    const b = new DynamicBatcher<string, string>(async () => ['only-one'], { maxBatchSize: 2 });
    const results = await Promise.allSettled([b.submit('a', ROUTINE), b.submit('b', ROUTINE)]);
    expect(results.map((r) => (r.status === 'rejected' ? codeOf(r.reason) : 'ok'))).toEqual([
      'INFERENCE_FAILED',
      'INFERENCE_FAILED',
    ]);
  });

  it('close() refuses new requests with MODEL_NOT_LOADED and resolves once in-flight ones finish', async () => {
    const ex = new ControlledExecutor();
    const b = new DynamicBatcher(ex.run, { maxBatchSize: 1 });
    const a = b.submit('a', ROUTINE);
    const c = b.submit('c', ROUTINE);
    await settle();
    const closed = track(b.close());
    await expect(b.submit('late', ROUTINE)).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
    ex.finish();
    await a;
    await settle();
    expect(closed.settled).toBe(false);
    expect(b.inFlight).toBe(1);
    ex.finish();
    await c;
    await settle();
    expect(closed.settled).toBe(true);
    expect(b.inFlight).toBe(0);
  });
});

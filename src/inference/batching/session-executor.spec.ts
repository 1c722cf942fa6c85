import type { ModelSession, TensorMap } from '../model-session';
import { FeedBufferPool, instanceGroupExecutor, sessionExecutor, splitBatch } from './session-executor';

/** Echoes the first value of each item's input as its one-element output, and keeps the feeds it saw. */
function echoSession(): ModelSession & { seen: Float32Array[]; hold?: Promise<void> } {
  const s = {
    inputNames: ['image'],
    outputNames: ['first'],
    provider: 'cpu',
    seen: [] as Float32Array[],
    hold: undefined as Promise<void> | undefined,
    async run(feeds: TensorMap): Promise<TensorMap> {
      const t = feeds.image!;
      s.seen.push(t.data);
      const n = t.dims[0]!;
      const per = t.data.length / n;
      const out = Float32Array.from({ length: n }, (_, i) => t.data[i * per]!);
      await s.hold;
      return { first: { data: out, dims: [n, 1] } };
    },
    async release(): Promise<void> {},
  };
  return s;
}

const item = (v: number): Float32Array[] => [new Float32Array(4).fill(v)];

describe('sessionExecutor', () => {
  it('stacks items into one [N,1,S,S] feed, splits outputs per item, and reuses its stacking buffer', async () => {
    const session = echoSession();
    const run = sessionExecutor(session, ['image'], 2);
    const a = await run([item(1), item(2), item(3)]);
    expect(a.map((o) => [Array.from(o.first!.data), o.first!.dims])).toEqual([
      [[1], [1]],
      [[2], [1]],
      [[3], [1]],
    ]);
    await run([item(4), item(5)]);
    expect(session.seen[1]!.buffer).toBe(session.seen[0]!.buffer);
    expect(session.seen[1]!.length).toBe(8);
    const single = item(6);
    await run([single]);
    expect(session.seen[2]).toBe(single[0]);
  });

  it("copies a single item for a session that transfers its feeds, so the caller's tensor survives the run", async () => {
    const session = Object.assign(echoSession(), { transfersFeeds: true });
    const inner = session.run.bind(session);
    // Like WorkerSessionFactory: a feed owning its whole buffer is transferred away (detached here).
    session.run = async (feeds: TensorMap) => {
      const t = feeds.image!;
      const moved = structuredClone(t.data, { transfer: [t.data.buffer as ArrayBuffer] });
      return inner({ image: { data: moved, dims: t.dims } });
    };
    const run = sessionExecutor(session, ['image'], 2);
    const single = item(6);
    const [one] = await run([single]);
    expect(Array.from(one!.first!.data)).toEqual([6]);
    expect(Array.from(single[0]!)).toEqual([6, 6, 6, 6]);
    const batch = [item(1), item(2)];
    await run(batch);
    const again = await run([item(3), item(4)]);
    expect(again.map((o) => o.first!.data[0])).toEqual([3, 4]);
    expect(Array.from(batch[1]![0]!)).toEqual([2, 2, 2, 2]);
  });

  it('refuses overlapping calls, which would overwrite a buffer the session is still reading', async () => {
    const session = echoSession();
    let release!: () => void;
    session.hold = new Promise((r) => (release = r));
    const run = sessionExecutor(session, ['image'], 2);
    const first = run([item(1), item(2)]);
    await expect(run([item(3), item(4)])).rejects.toThrow('must not overlap');
    release();
    await expect(first).resolves.toHaveLength(2);
  });
});

describe('sessionExecutor with a pipelining session', () => {
  it('lets calls overlap up to the pipeline depth, each with its own stacking buffer', async () => {
    let release!: () => void;
    const session = Object.assign(echoSession(), { transfersFeeds: true, pipelineDepth: 2 });
    session.hold = new Promise((r) => (release = r));
    const run = sessionExecutor(session, ['image'], 2);
    const first = run([item(1), item(2)]);
    const second = run([item(3), item(4)]);
    await expect(run([item(5), item(6)])).rejects.toThrow('must not overlap');
    expect(session.seen[0]!.buffer).not.toBe(session.seen[1]!.buffer);
    release();
    expect((await first).map((o) => o.first!.data[0])).toEqual([1, 2]);
    expect((await second).map((o) => o.first!.data[0])).toEqual([3, 4]);
  });
});

/**
 * Like WorkerSessionFactory: transfers each feed away (detached in the caller) and, when the run
 * settles, puts the buffer back into the caller's feed object. `lose` keeps them (a crashed worker).
 */
function lendingSession(): ModelSession & { seen: Float32Array[]; given: Float32Array[]; lose: boolean } {
  const inner = echoSession();
  const s = Object.assign(inner, {
    transfersFeeds: true,
    pipelineDepth: 2,
    lose: false,
    given: [] as Float32Array[],
    async run(feeds: TensorMap): Promise<TensorMap> {
      const t = feeds.image!;
      s.given.push(t.data);
      const moved = structuredClone(t.data, { transfer: [t.data.buffer as ArrayBuffer] });
      s.seen.push(moved);
      const n = t.dims[0]!;
      const out = Float32Array.from({ length: n }, (_, i) => moved[(i * moved.length) / n]!);
      if (!s.lose) t.data = moved;
      return { first: { data: out, dims: [n, 1] } };
    },
  });
  return s;
}

describe('sessionExecutor with a session that borrows its feeds', () => {
  it('refills the buffer the session handed back instead of allocating one per batch', async () => {
    const session = lendingSession();
    const run = sessionExecutor(session, ['image'], 2);
    expect((await run([item(1), item(2)])).map((o) => o.first!.data[0])).toEqual([1, 2]);
    expect((await run([item(3), item(4)])).map((o) => o.first!.data[0])).toEqual([3, 4]);
    expect(session.given[1]).toBe(session.seen[0]); // the array handed back is the one refilled
    await run([item(5), item(6), item(7)]); // another size gets its own buffer
    expect(session.seen[2]!.length).toBe(12);
    await run([item(8), item(9)]);
    expect(session.given[3]).toBe(session.seen[1]);
  });

  it('allocates a new buffer when the session lost the last one (its thread died)', async () => {
    const session = lendingSession();
    const run = sessionExecutor(session, ['image'], 2);
    session.lose = true;
    await run([item(1), item(2)]);
    session.lose = false;
    const again = await run([item(3), item(4)]);
    expect(again.map((o) => o.first!.data[0])).toEqual([3, 4]);
    expect(session.given[1]).not.toBe(session.seen[0]);
    expect(session.given[1]).not.toBe(session.given[0]);
  });
});

describe('FeedBufferPool', () => {
  it('hands out an idle buffer of the exact length, else a new one', () => {
    const pool = new FeedBufferPool(2);
    const a = pool.take(8);
    pool.give(a);
    expect(pool.take(8)).toBe(a);
    expect(pool.take(8)).not.toBe(a);
    expect(pool.take(4).length).toBe(4);
  });

  it('keeps at most perLength idle buffers per length and drops the least recently used lengths', () => {
    const pool = new FeedBufferPool(2, 2);
    for (let i = 0; i < 3; i++) pool.give(new Float32Array(8));
    expect(pool.size).toBe(2);
    pool.give(new Float32Array(4));
    pool.give(new Float32Array(2)); // a third length evicts length 8, the oldest
    expect(pool.size).toBe(2);
    const fresh = pool.take(8);
    expect(pool.size).toBe(2);
    expect(fresh.length).toBe(8);
  });

  it('drops a detached buffer and a view into a larger one', () => {
    const pool = new FeedBufferPool(2);
    const detached = new Float32Array(8);
    structuredClone(detached, { transfer: [detached.buffer] });
    pool.give(detached);
    pool.give(new Float32Array(16).subarray(0, 8));
    expect(pool.size).toBe(0);
  });
});

describe('instanceGroupExecutor', () => {
  it('runs an exclusive batch on the wide session and the others on the instance the batcher chose', async () => {
    const wide = echoSession();
    const narrow = [echoSession(), echoSession()];
    const run = instanceGroupExecutor(wide, narrow, ['image'], 2);
    expect((await run([item(1)], { exclusive: true, instance: 0 })).map((o) => o.first!.data[0])).toEqual([
      1,
    ]);
    const [a, b] = await Promise.all([
      run([item(2), item(3)], { exclusive: false, instance: 1 }),
      run([item(4)], { exclusive: false, instance: 0 }),
    ]);
    expect([a, b].map((r) => r.map((o) => o.first!.data[0]))).toEqual([[2, 3], [4]]);
    expect([wide, ...narrow].map((s) => s.seen.length)).toEqual([1, 1, 1]);
    expect(narrow[1]!.seen[0]!.length).toBe(8); // the pair of items went to instance 1
    await expect(run([item(5)], { exclusive: false, instance: 2 })).rejects.toThrow(/no instance 2/);
  });

  it('runs everything on the wide session when there are no instances', async () => {
    const wide = echoSession();
    const run = instanceGroupExecutor(wide, [], ['image'], 2);
    await run([item(1)], { exclusive: false, instance: 0 });
    expect(wide.seen).toHaveLength(1);
  });
});

describe('splitBatch', () => {
  it('removes the batch dimension of every output and copies each item', () => {
    const out = splitBatch(
      {
        logits: { data: Float32Array.from([1, 2, 3, 4]), dims: [2, 2] },
        d: { data: Float32Array.from([7, 8]), dims: [2] },
      },
      2,
    );
    expect(out[1]!.logits!.dims).toEqual([2]);
    expect(Array.from(out[1]!.logits!.data)).toEqual([3, 4]);
    expect(out[0]!.d!.dims).toEqual([]);
    expect(out[0]!.logits!.data.buffer.byteLength).toBe(8);
  });

  it('throws when an output is not batched like the input', () => {
    expect(() => splitBatch({ logits: { data: new Float32Array(3), dims: [3] } }, 2)).toThrow(
      'batch dimension 3, expected 2',
    );
  });
});

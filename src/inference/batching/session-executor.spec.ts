import type { ModelSession, TensorMap } from '../engine';
import { sessionExecutor, splitBatch } from './session-executor';

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

import type { ModelSession, Tensor, TensorMap } from '../model-session';
import type { BatchExecutor } from './dynamic-batcher';

/**
 * Batch executor over one model session: stacks each item's views into `[N, 1, S, S]` feeds (one per
 * input name, in the manifest's order), runs the session once, and splits every output along its
 * batch dimension.
 *
 * Stacking buffers are reused, never allocated per batch: a fresh multi-megabyte buffer per batch
 * costs page faults, zeroing and unmapping (7% of raw throughput at batch 32 in bench/engine.bench.ts).
 * For a session that only reads its feeds, one buffer per input is grown to the largest batch seen and
 * a subarray of it is passed; calls must not overlap (the batcher runs one batch at a time for it; an
 * overlapping call throws). A session that {@link ModelSession.transfersFeeds | borrows its feeds}
 * (the worker session) needs a buffer spanning exactly `N·S²` values, which it transfers away and
 * hands back when the run settles; those buffers are pooled by length, so calls may overlap up to its
 * {@link ModelSession.pipelineDepth | pipeline depth}, each with its own buffer. A single item is
 * copied for such a session too, so the caller's tensor (still needed, e.g. for the heatmap) is never
 * detached.
 *
 * @param session - the loaded session
 * @param inputNames - the model's input names; item `k`-th view feeds `inputNames[k]`
 * @param size - the square input side S
 */
export function sessionExecutor(
  session: ModelSession,
  inputNames: readonly string[],
  size: number,
): (items: readonly (readonly Float32Array[])[]) => Promise<TensorMap[]> {
  const per = size * size;
  const scratch: Float32Array[] = inputNames.map(() => new Float32Array(0));
  const maxOverlap = session.transfersFeeds ? (session.pipelineDepth ?? 1) : 1;
  const pool = new FeedBufferPool(maxOverlap * inputNames.length);
  let running = 0;
  return async (items) => {
    if (running >= maxOverlap) throw new Error('sessionExecutor calls must not overlap');
    running++;
    const feeds: TensorMap = {};
    try {
      const n = items.length;
      inputNames.forEach((name, k) => {
        let data: Float32Array;
        if (n === 1 && !session.transfersFeeds) {
          data = items[0]![k]!;
        } else if (session.transfersFeeds) {
          data = pool.take(n * per);
          for (let i = 0; i < n; i++) data.set(items[i]![k]!, i * per);
        } else {
          if (scratch[k]!.length < n * per) scratch[k] = new Float32Array(n * per);
          data = scratch[k]!.subarray(0, n * per);
          for (let i = 0; i < n; i++) data.set(items[i]![k]!, i * per);
        }
        feeds[name] = { data, dims: [n, 1, size, size] };
      });
      return splitBatch(await session.run(feeds), n);
    } finally {
      running--;
      if (session.transfersFeeds) for (const t of Object.values(feeds)) pool.give(t.data);
    }
  };
}

/**
 * Batch executor over an instance group (Triton's `instance_group`): an exclusive batch (nothing runs
 * beside it) goes to `wide`, a session with every intra-op thread, for the best latency at light load;
 * any other goes to the instance the batcher chose (`placement.instance`), a session with its own few
 * threads in its own worker thread. On a CPU, independent instances side by side beat one session whose
 * threads wait for each other at every operator, above all when the event loop's work preempts one of
 * them (bench/engine.bench.ts). The batcher (`instances` = `narrow.length`) never runs an exclusive
 * batch beside another, and hands an instance no more batches than its pipeline depth.
 *
 * @param wide - the session for batches that run alone
 * @param narrow - the instances for batches that run side by side (empty: everything runs on `wide`)
 */
export function instanceGroupExecutor(
  wide: ModelSession,
  narrow: readonly ModelSession[],
  inputNames: readonly string[],
  size: number,
): BatchExecutor<readonly Float32Array[], TensorMap> {
  const alone = sessionExecutor(wide, inputNames, size);
  const instances = narrow.map((session) => sessionExecutor(session, inputNames, size));
  return async (items, placement) => {
    if (placement.exclusive || instances.length === 0) return alone(items);
    const run = instances[placement.instance];
    if (!run) throw new RangeError(`instanceGroupExecutor: no instance ${placement.instance}`);
    return run(items);
  };
}

/**
 * Float32Array buffers by exact length, for feeds a session transfers away and hands back. Keeps at
 * most `perLength` idle buffers of one length and drops the least recently used lengths beyond
 * `maxLengths`, so varying batch sizes cannot pin memory without bound.
 */
export class FeedBufferPool {
  private readonly idle = new Map<number, Float32Array[]>();

  constructor(
    private readonly perLength: number,
    private readonly maxLengths = 3,
  ) {}

  /** A buffer of exactly `length` values (contents undefined): an idle one, else a new one. */
  take(length: number): Float32Array {
    const list = this.idle.get(length);
    const buffer = list?.pop();
    if (list) {
      // Most recently used lengths go last, so eviction takes the oldest.
      this.idle.delete(length);
      if (list.length) this.idle.set(length, list);
    }
    return buffer ?? new Float32Array(length);
  }

  /** Returns a buffer; one a transfer left detached (a crashed worker kept it) is dropped. */
  give(buffer: Float32Array): void {
    if (buffer.buffer.byteLength === 0 || buffer.byteOffset !== 0) return;
    if (buffer.byteLength !== buffer.buffer.byteLength) return;
    const list = this.idle.get(buffer.length) ?? [];
    this.idle.delete(buffer.length);
    if (list.length < this.perLength) list.push(buffer);
    this.idle.set(buffer.length, list);
    while (this.idle.size > this.maxLengths) this.idle.delete(this.idle.keys().next().value!);
  }

  /** Idle buffers held, for tests. */
  get size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }
}

/**
 * Splits batched outputs into one {@link TensorMap} per item with the batch dimension removed
 * (`[N, K]` → `[K]`, `[N]` → `[]`). Each item gets its own copy, so holding one result does not keep
 * the whole batch's buffers alive.
 *
 * @throws Error when an output's first dimension is not the batch size
 */
export function splitBatch(out: TensorMap, n: number): TensorMap[] {
  const results: TensorMap[] = Array.from({ length: n }, () => ({}));
  for (const [name, t] of Object.entries(out)) {
    if (t.dims[0] !== n) throw new Error(`output ${name} has batch dimension ${t.dims[0]}, expected ${n}`);
    const dims = t.dims.slice(1);
    const per = dims.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      results[i]![name] = { data: t.data.slice(i * per, (i + 1) * per), dims } satisfies Tensor;
    }
  }
  return results;
}

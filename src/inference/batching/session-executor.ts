import type { ModelSession, Tensor, TensorMap } from '../engine';
import type { BatchExecutor } from './dynamic-batcher';

/**
 * Batch executor over one model session: stacks each item's views into `[N, 1, S, S]` feeds (one per
 * input name, in the manifest's order), runs the session once, and splits every output along its
 * batch dimension. The stacking buffers are allocated once (grown to the largest batch seen) and
 * reused: a fresh multi-megabyte buffer per batch costs page faults and GC, which showed up as lost
 * throughput in bench/engine.bench.ts. Reuse is safe because calls to a session that only reads its
 * feeds never overlap (the batcher runs one batch at a time for it; an overlapping call throws). A
 * session that {@link ModelSession.transfersFeeds | transfers its feeds} (the worker session) gets a
 * fresh stacking buffer per call, since the transfer detaches it anyway, so its calls may overlap up
 * to its {@link ModelSession.pipelineDepth | pipeline depth}; a single item is copied for it too, so the
 * caller's tensor (still needed, e.g. for the heatmap) is never detached.
 *
 * @param session - the loaded session
 * @param inputNames - the model's input names; item `k`-th view feeds `inputNames[k]`
 * @param size - the square input side S
 */
export function sessionExecutor(
  session: ModelSession,
  inputNames: readonly string[],
  size: number,
): BatchExecutor<readonly Float32Array[], TensorMap> {
  const per = size * size;
  const scratch: Float32Array[] = inputNames.map(() => new Float32Array(0));
  const maxOverlap = session.transfersFeeds ? (session.pipelineDepth ?? 1) : 1;
  let running = 0;
  return async (items) => {
    if (running >= maxOverlap) throw new Error('sessionExecutor calls must not overlap');
    running++;
    try {
      const n = items.length;
      const feeds: TensorMap = {};
      inputNames.forEach((name, k) => {
        let data: Float32Array;
        if (n === 1 && !session.transfersFeeds) {
          data = items[0]![k]!;
        } else if (session.transfersFeeds) {
          data = new Float32Array(n * per);
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
    }
  };
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

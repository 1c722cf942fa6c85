/**
 * Inference engine throughput and overhead, all measured in one run:
 * `node -r @swc-node/register bench/engine.bench.ts [seconds-per-phase]`.
 *
 * (a) raw onnxruntime-node loops at batch sizes 1..32 → images/s (medians of 3 interleaved passes of
 *     [seconds-per-phase], default 1), best batch picked, for two layouts:
 *     one session with every intra-op thread on the main thread (the usual "raw loop"), and an
 *     instance group without the engine: ENGINE_INSTANCES (default 2) sessions of cores/instances
 *     threads, each looping in its own worker thread at the same time;
 * (b) the DynamicBatchingEngine saturated (closed loop, 4 × maxBatchSize clients) as the product runs it:
 *     worker-thread sessions and ENGINE_INSTANCES instances (ENGINE_SESSION_THREAD=main: the main-thread
 *     adapter, one session) → images/s, and the ratios engine / raw single-session best (goal ≥ 0.95)
 *     and engine / raw instance group at the same batch (what the engine itself costs): medians of
 *     the ratios of BENCH_ROUNDS (16) rounds of BENCH_SLICE_S (1) seconds per arm, rotating which goes
 *     first, because on a shared VM the machine's speed drifts by ±10% from one minute to the next;
 * (c) concurrency 1: median latency of raw batch-1 runs vs single requests through the engine,
 *     interleaved call by call, 2 ms apart → added ms (goal ≤ 1 ms);
 * (e) the engine's own cost per batch, with an instant stand-in session (stacking, splitting, promises),
 *     as a share of one raw best-size batch: a load-independent bound on what (b) can lose.
 *
 * Model: models/chest/v1, else $CARE_CHEST_MODEL_DIR, else bench/fixtures/tiny-chest (say which in the output).
 * Writes bench/results/engine.json (engine-main.json with main-thread sessions, engine-instances-<n>.json
 * with another ENGINE_INSTANCES) and prints a table.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { DynamicBatcher } from '../src/inference/batching/dynamic-batcher';
import { sessionExecutor } from '../src/inference/batching/session-executor';
import { DynamicBatchingEngine } from '../src/inference/dynamic-batching.engine';
import type { ModelSession, TensorMap } from '../src/inference/model-session';
import { loadModelManifest } from '../src/inference/model-manifest';
import { OnnxSessionFactory } from '../src/inference/onnx/onnx-session.factory';
import { WorkerSessionFactory } from '../src/inference/onnx/worker-session.factory';
import { median, quantile, r2, r3, randomTensor } from './bench-utils';

const ROOT = path.resolve(__dirname, '..');
const PHASE_S = Math.max(0.25, Number(process.argv[2] ?? 1));
/** (a): passes over the batch sizes (alternating direction); each batch's figure is their median. */
const SCAN_PASSES = 3;
const BATCHES = [1, 2, 4, 8, 16, 32];
/** (b): alternating raw / engine rounds of BENCH_SLICE_S seconds each. */
const SATURATED_ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 16));
const SLICE_S = Math.max(0.25, Number(process.env.BENCH_SLICE_S ?? 1));

function modelDir(): { dir: string; source: string } {
  const candidates: [string | undefined, string][] = [
    [path.join(ROOT, 'models/chest/v1'), 'models/chest/v1 (real chest model)'],
    [process.env.CARE_CHEST_MODEL_DIR, `CARE_CHEST_MODEL_DIR=${process.env.CARE_CHEST_MODEL_DIR}`],
    [
      path.join(ROOT, 'bench/fixtures/tiny-chest'),
      'bench/fixtures/tiny-chest (tiny stand-in, not the real model)',
    ],
  ];
  for (const [dir, source] of candidates)
    if (dir && existsSync(path.join(dir, 'model.onnx'))) return { dir, source };
  throw new Error(
    'no model: expected models/chest/v1/model.onnx, $CARE_CHEST_MODEL_DIR or bench/fixtures/tiny-chest',
  );
}

function sessionOptions(threads?: number): ort.InferenceSession.SessionOptions {
  // The same options as src/inference/onnx/onnx-session.factory.ts.
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads ?? 0,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}

/** Runs `step` (which processes `perStep` images) back to back for `seconds`; images per second. */
async function throughput(step: () => Promise<unknown>, perStep: number, seconds: number): Promise<number> {
  await step();
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await step();
    images += perStep;
  }
  return images / ((performance.now() - t0) / 1000);
}

/** A raw session looping in a worker thread (no engine): the instance group's peer. */
const RAW_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const { file, options, input, size } = workerData;
const feeds = new Map();
function feedsFor(batch) {
  if (!feeds.has(batch)) {
    const data = new Float32Array(batch * size * size);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37);
    feeds.set(batch, { [input]: new ort.Tensor('float32', data, [batch, 1, size, size]) });
  }
  return feeds.get(batch);
}
ort.InferenceSession.create(file, options).then((session) => {
  parentPort.postMessage('ready');
  parentPort.on('message', async ({ batch, ms }) => {
    const f = feedsFor(batch);
    await session.run(f);
    let images = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      await session.run(f);
      images += batch;
    }
    parentPort.postMessage({ images, ms: performance.now() - t0 });
  });
});
`;

/** `count` raw sessions of `threads` intra-op threads, each looping in its own worker thread at once. */
async function rawInstanceGroup(file: string, input: string, size: number, count: number, threads: number) {
  const workers = await Promise.all(
    Array.from({ length: count }, async () => {
      const w = new Worker(RAW_WORKER, {
        eval: true,
        workerData: {
          ort: require.resolve('onnxruntime-node'),
          file,
          input,
          size,
          options: sessionOptions(threads),
        },
      });
      await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      return w;
    }),
  );
  return {
    /** Images per second of all instances together, each looping `seconds` at `batch`. */
    async throughput(batch: number, seconds: number): Promise<number> {
      const done = await Promise.all(
        workers.map(
          (w) =>
            new Promise<{ images: number; ms: number }>((resolve) => {
              w.once('message', resolve);
              w.postMessage({ batch, ms: seconds * 1000 });
            }),
        ),
      );
      return done.reduce((sum, d) => sum + d.images / (d.ms / 1000), 0);
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const { dir, source } = modelDir();
  const manifest = await loadModelManifest(dir);
  const size = manifest.input.size;
  const inputName = manifest.input.names[0]!;
  if (manifest.input.names.length !== 1) throw new Error('this bench drives single-view (chest) models');
  const per = size * size;
  const file = path.join(dir, 'model.onnx');
  const pool = Array.from({ length: 32 }, (_, i) => randomTensor(per, i + 1));
  const stacked = (b: number): ort.Tensor => {
    const data = new Float32Array(b * per);
    for (let i = 0; i < b; i++) data.set(pool[i % pool.length]!, i * per);
    return new ort.Tensor('float32', data, [b, 1, size, size]);
  };
  console.error(
    `model: ${source}; input ${size}x${size}; ${PHASE_S}s per phase; load ${loadavg().map(r2).join(' ')}`,
  );

  // Sessions in worker threads with an instance group, as the product runs them;
  // ENGINE_SESSION_THREAD=main measures the main-thread adapter (what CLIs use) instead.
  const sessionThread = process.env.ENGINE_SESSION_THREAD === 'main' ? 'main' : 'worker';
  const cores = availableParallelism();
  const instances = sessionThread === 'main' ? 1 : Number(process.env.ENGINE_INSTANCES ?? Math.min(2, cores));
  const threadsPerInstance = Math.max(1, Math.floor(cores / instances));

  // (a) raw loops per batch size: one session with every thread, and the instance group without the
  // engine; SCAN_PASSES interleaved passes, medians, so one slow second does not pick the best batch.
  const raw = await ort.InferenceSession.create(file, sessionOptions());
  const group = await rawInstanceGroup(file, inputName, size, instances, threadsPerInstance);
  const scan = new Map(BATCHES.map((b) => [b, { one: [] as number[], group: [] as number[] }]));
  for (let pass = 0; pass < SCAN_PASSES; pass++) {
    for (const b of pass % 2 ? [...BATCHES].reverse() : BATCHES) {
      const feeds = { [inputName]: stacked(b) };
      scan.get(b)!.one.push(await throughput(() => raw.run(feeds), b, PHASE_S));
      scan.get(b)!.group.push(await group.throughput(b, PHASE_S));
    }
  }
  const rawRows = BATCHES.map((b) => ({
    batch: b,
    imagesPerSecond: r2(median(scan.get(b)!.one)),
    instanceGroupImagesPerSecond: r2(median(scan.get(b)!.group)),
  }));
  for (const r of rawRows)
    console.error(
      `raw batch ${r.batch}: one session ${r.imagesPerSecond} img/s, ${instances} × ${threadsPerInstance}-thread instances ${r.instanceGroupImagesPerSecond} img/s (medians of ${SCAN_PASSES})`,
    );
  const best = rawRows.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  const bestGroup = rawRows.reduce((a, b) =>
    b.instanceGroupImagesPerSecond > a.instanceGroupImagesPerSecond ? b : a,
  );

  // (b) engine saturated, in rounds beside both raw peers so load drift hits all alike.
  // ENGINE_MAX_BATCH sets the engine's batch limit (default: the best batch of the layout it runs at
  // saturation: the instance group's with instances, else the single session's).
  const engineBatch = Number(process.env.ENGINE_MAX_BATCH ?? (instances > 1 ? bestGroup.batch : best.batch));
  const engine = new DynamicBatchingEngine({
    sessionFactory: sessionThread === 'worker' ? new WorkerSessionFactory() : new OnnxSessionFactory(),
    executionProviders: ['cpu'],
    maxBatchSize: engineBatch,
    instances,
  });
  await engine.loadVersion('chest', 'bench', dir);
  const clients = 4 * engineBatch;
  // Counts images up to the last completion inside the window and divides by the time to it, as the raw
  // loop does with whole steps, so a batch cut off by the end of the window costs the engine nothing.
  const engineRound = async (seconds: number): Promise<{ ips: number; meanBatch: number }> => {
    let images = 0;
    let batchSum = 0;
    let stop = false;
    let lastDone = 0;
    const t0 = performance.now();
    const client = async (c: number): Promise<void> => {
      let k = c;
      while (!stop) {
        const r = await engine.infer({
          task: 'chest',
          views: [pool[k++ % pool.length]!],
          priority: 'ROUTINE',
        });
        if (stop) break;
        images++;
        batchSum += r.timings.batchSize;
        lastDone = performance.now();
      }
    };
    const running = Array.from({ length: clients }, (_, c) => client(c));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    stop = true;
    const counted = images;
    const elapsed = (lastDone - t0) / 1000;
    await Promise.all(running);
    return { ips: counted / elapsed, meanBatch: batchSum / counted };
  };
  await engineRound(Math.min(1, PHASE_S));
  // Short rounds, rotating which arm goes first, so the machine's drift (other tenants, frequency) hits
  // every arm alike; each ratio is the median of the per-round ratios.
  const bestFeeds = { [inputName]: stacked(best.batch) };
  const meanBatches: number[] = [];
  const arms = {
    raw: () => throughput(() => raw.run(bestFeeds), best.batch, SLICE_S),
    group: () => group.throughput(engineBatch, SLICE_S),
    engine: async () => {
      const e = await engineRound(SLICE_S);
      meanBatches.push(e.meanBatch);
      return e.ips;
    },
  };
  const rounds: Record<keyof typeof arms, number[]> = { raw: [], group: [], engine: [] };
  const order = Object.keys(arms) as (keyof typeof arms)[];
  for (let i = 0; i < SATURATED_ROUNDS; i++) {
    const turn = [...order.slice(i % 3), ...order.slice(0, i % 3)];
    for (const arm of turn) rounds[arm].push(await arms[arm]());
    const k = rounds.raw.length - 1;
    console.error(
      `round ${i + 1}: raw one session ${rounds.raw[k]!.toFixed(1)}, raw instances ${rounds.group[k]!.toFixed(1)}, engine ${rounds.engine[k]!.toFixed(1)} img/s (engine/raw ${(rounds.engine[k]! / rounds.raw[k]!).toFixed(3)}, engine/instances ${(rounds.engine[k]! / rounds.group[k]!).toFixed(3)})`,
    );
  }
  const pairedRatio = median(rounds.engine.map((e, i) => e / rounds.raw[i]!));
  const groupRatio = median(rounds.engine.map((e, i) => e / rounds.group[i]!));
  const rawBest = median(rounds.raw);
  const groupBest = median(rounds.group);
  const engineIps = median(rounds.engine);

  // (c) concurrency 1, interleaved raw / engine call by call, with a 2 ms pause before each call: a
  // lone client's requests come apart, and one arm's threads still spinning after its run would
  // otherwise slow the other arm's next call.
  const one = { [inputName]: new ort.Tensor('float32', pool[0]!, [1, 1, size, size]) };
  const pause = () => new Promise((resolve) => setTimeout(resolve, 2));
  const rawLat: number[] = [];
  const engLat: number[] = [];
  for (let i = 0; i < 20; i++) {
    await raw.run(one);
    await engine.infer({ task: 'chest', views: [pool[0]!], priority: 'ROUTINE' });
  }
  const t0 = performance.now();
  while (performance.now() - t0 < PHASE_S * 3000 || rawLat.length < 200) {
    await pause();
    let t = performance.now();
    await raw.run(one);
    rawLat.push(performance.now() - t);
    await pause();
    t = performance.now();
    await engine.infer({ task: 'chest', views: [pool[0]!], priority: 'ROUTINE' });
    engLat.push(performance.now() - t);
  }
  await engine.close();

  await Promise.all([raw.release(), group.close()]);

  // (e) engine overhead per batch with an instant session returning outputs shaped like the model's
  const outputs = await (async () => {
    const s = await ort.InferenceSession.create(file, sessionOptions());
    const o = await s.run({ [inputName]: stacked(1) });
    await s.release();
    return Object.fromEntries(Object.entries(o).map(([k, t]) => [k, t.dims.slice(1) as number[]]));
  })();
  const instant: ModelSession = {
    inputNames: [inputName],
    outputNames: Object.keys(outputs),
    provider: 'none',
    release: async () => undefined,
    run: async (feeds: TensorMap): Promise<TensorMap> => {
      const n = feeds[inputName]!.dims[0]!;
      return Object.fromEntries(
        Object.entries(outputs).map(([k, dims]) => [
          k,
          { data: new Float32Array(n * dims.reduce((a, b) => a * b, 1)), dims: [n, ...dims] },
        ]),
      );
    },
  };
  const overheadBatcher = new DynamicBatcher(sessionExecutor(instant, [inputName], size), {
    maxBatchSize: best.batch,
  });
  const batchItems = Array.from({ length: best.batch }, (_, i) => [pool[i % pool.length]!]);
  const overheadRounds: number[] = [];
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const t = performance.now();
    while (performance.now() - t < 1000) {
      await Promise.all(batchItems.map((views) => overheadBatcher.submit(views, { priority: 'ROUTINE' })));
      n++;
    }
    overheadRounds.push((performance.now() - t) / n);
  }
  const overheadMs = median(overheadRounds);
  const rawBatchMs = (1000 * best.batch) / rawBest;

  const result = {
    node: process.version,
    cpu: cpus()[0]?.model,
    cores,
    loadAverageAtStart: loadAtStart.map(r2),
    loadAverageAtEnd: loadavg().map(r2),
    model: source,
    inputSize: size,
    secondsPerPhase: PHASE_S,
    instances,
    threadsPerInstance,
    raw: rawRows,
    rawBestBatch: best.batch,
    rawInstanceGroupBestBatch: bestGroup.batch,
    saturated: {
      clients,
      engineMaxBatchSize: engineBatch,
      rounds: SATURATED_ROUNDS,
      secondsPerRound: SLICE_S,
      rawBestImagesPerSecond: r2(rawBest),
      rawInstanceGroupImagesPerSecond: r2(groupBest),
      engineImagesPerSecond: r2(engineIps),
      engineMeanBatch: r2(median(meanBatches)),
      ratioEngineToRawBest: r3(pairedRatio),
      ratioEngineToRawInstanceGroup: r3(groupRatio),
      ratioRawInstanceGroupToRawBest: r3(median(rounds.group.map((g, i) => g / rounds.raw[i]!))),
      perRound: {
        raw: rounds.raw.map(r2),
        rawInstanceGroup: rounds.group.map(r2),
        engine: rounds.engine.map(r2),
      },
    },
    concurrencyOne: {
      samples: rawLat.length,
      rawBatch1MedianMs: r3(median(rawLat)),
      engineMedianMs: r3(median(engLat)),
      addedMedianMs: r3(median(engLat) - median(rawLat)),
      rawP90Ms: r3(quantile(rawLat, 0.9)),
      engineP90Ms: r3(quantile(engLat, 0.9)),
    },
    engineOverhead: {
      batch: best.batch,
      overheadMsPerBatch: r3(overheadMs),
      rawBestBatchMs: r3(rawBatchMs),
      overheadShare: r3(overheadMs / rawBatchMs),
      ratioBoundFromOverhead: r3(rawBatchMs / (rawBatchMs + overheadMs)),
    },
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  // The product's layout writes engine.json; others their own file, so both can be kept side by side.
  const defaultInstances = Math.min(2, cores);
  const outFile =
    sessionThread === 'main'
      ? 'engine-main.json'
      : instances === defaultInstances
        ? 'engine.json'
        : `engine-instances-${instances}.json`;
  writeFileSync(
    path.join(ROOT, 'bench/results', outFile),
    `${JSON.stringify({ sessionThread, ...result }, null, 2)}\n`,
  );

  const rows: [string, string, string][] = [
    ...rawRows.map((r): [string, string, string] => [
      `(a) raw batch ${r.batch}`,
      `${r.imagesPerSecond.toFixed(1)} | ${r.instanceGroupImagesPerSecond.toFixed(1)} img/s`,
      [r.batch === best.batch ? 'best one session' : '', r.batch === bestGroup.batch ? 'best instances' : '']
        .filter(Boolean)
        .join(', '),
    ]),
    ['(b) raw one session (median of rounds)', `${rawBest.toFixed(1)} img/s`, `batch ${best.batch}`],
    [
      '(b) raw instance group (median of rounds)',
      `${groupBest.toFixed(1)} img/s`,
      `${instances} × ${threadsPerInstance} threads, batch ${engineBatch}`,
    ],
    [
      '(b) engine saturated',
      `${engineIps.toFixed(1)} img/s`,
      `${clients} clients, mean batch ${median(meanBatches).toFixed(1)}, ${instances} instance(s)`,
    ],
    [
      '(b) ratio engine / raw one session',
      r3(pairedRatio).toFixed(3),
      `median of ${SATURATED_ROUNDS} rounds; goal >= 0.95`,
    ],
    ['(b) ratio engine / raw instance group', r3(groupRatio).toFixed(3), 'what the engine itself costs'],
    ['(c) raw batch-1 median', `${median(rawLat).toFixed(3)} ms`, `n=${rawLat.length}`],
    ['(c) engine concurrency-1 median', `${median(engLat).toFixed(3)} ms`, ''],
    ['(c) added by the engine', `${(median(engLat) - median(rawLat)).toFixed(3)} ms`, 'goal <= 1 ms'],
    [
      '(e) engine cost per batch (instant session)',
      `${overheadMs.toFixed(3)} ms`,
      `${((100 * overheadMs) / rawBatchMs).toFixed(2)}% of a raw batch of ${best.batch} (${rawBatchMs.toFixed(1)} ms)`,
    ],
  ];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`model: ${source}`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0]!)}  ${r[1].padStart(w[1]!)}  ${r[2]}`);
  console.log(`wrote bench/results/${outFile}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

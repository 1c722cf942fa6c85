/**
 * Where model sessions run, main thread vs worker thread, measured in one run:
 * `node -r @swc-node/register bench/session-thread.bench.ts [seconds-per-phase]`.
 *
 * onnxruntime-node 1.30 executes `session.run` synchronously on the JS thread, so with
 * {@link OnnxSessionFactory} every batch stalls the event loop; {@link WorkerSessionFactory} runs it on
 * a worker thread. For each variant, batches of 16 run back to back (closed loop, one at a time, as the
 * dynamic batching engine does) while `perf_hooks.monitorEventLoopDelay` (1 ms resolution) and a 1 ms
 * interval watch the event loop. Variants alternate over rounds so load changes hit both alike; both get
 * a fresh copy of the batch per run (the worker takes ownership of what it is given).
 *
 * Reports images/s, the worst and p99 event-loop delay, and 1 ms ticks per second, with worker/main
 * ratios. Model: models/chest/v1, else bench/fixtures/tiny-chest (said in the output).
 * Writes bench/results/session-thread.json and prints a table.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ModelSession, SessionOptions } from '../src/inference/model-session';
import { loadModelManifest } from '../src/inference/model-manifest';
import { OnnxSessionFactory } from '../src/inference/onnx/onnx-session.factory';
import { WorkerSessionFactory } from '../src/inference/onnx/worker-session.factory';
import { median, r2, r3, randomTensor } from './bench-utils';

const ROOT = path.resolve(__dirname, '..');
const PHASE_S = Math.max(0.5, Number(process.argv[2] ?? 3));
const BATCH = 16;
const ROUNDS = 3;
const OPTIONS: SessionOptions = { executionProviders: ['cpu'] };

function modelDir(): { dir: string; source: string } {
  const candidates: [string, string][] = [
    [path.join(ROOT, 'models/chest/v1'), 'models/chest/v1 (real chest model)'],
    [
      path.join(ROOT, 'bench/fixtures/tiny-chest'),
      'bench/fixtures/tiny-chest (tiny stand-in, not the real model)',
    ],
  ];
  for (const [dir, source] of candidates)
    if (existsSync(path.join(dir, 'model.onnx'))) return { dir, source };
  throw new Error('no model: expected models/chest/v1/model.onnx or bench/fixtures/tiny-chest');
}

interface Phase {
  imagesPerSecond: number;
  maxStallMs: number;
  p99StallMs: number;
  ticksPerSecond: number;
}

/** Runs batches back to back for `seconds` while watching the event loop. */
async function phase(
  session: ModelSession,
  input: Float32Array,
  dims: number[],
  seconds: number,
): Promise<Phase> {
  await session.run({ image: { data: input.slice(), dims } });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  histogram.enable();
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await session.run({ image: { data: input.slice(), dims } });
    images += dims[0]!;
  }
  const elapsed = (performance.now() - t0) / 1000;
  histogram.disable();
  clearInterval(timer);
  return {
    imagesPerSecond: images / elapsed,
    maxStallMs: histogram.max / 1e6,
    p99StallMs: histogram.percentile(99) / 1e6,
    ticksPerSecond: ticks / elapsed,
  };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const { dir, source } = modelDir();
  const manifest = await loadModelManifest(dir);
  const size = manifest.input.size;
  if (manifest.input.names.length !== 1 || manifest.input.names[0] !== 'image')
    throw new Error('this bench drives single-view models with one input named "image"');
  const file = path.join(dir, 'model.onnx');
  const input = randomTensor(BATCH * size * size, 1);
  const dims = [BATCH, 1, size, size];
  console.error(
    `model: ${source}; batch ${BATCH}; ${PHASE_S}s per phase x ${ROUNDS} rounds; load ${loadAtStart.map(r2).join(' ')}`,
  );

  const sessions: Record<'main' | 'worker', ModelSession> = {
    main: await new OnnxSessionFactory().load(file, OPTIONS),
    worker: await new WorkerSessionFactory().load(file, OPTIONS),
  };
  const rounds: Record<'main' | 'worker', Phase[]> = { main: [], worker: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['main', 'worker'] as const) : (['worker', 'main'] as const);
    for (const variant of order) rounds[variant].push(await phase(sessions[variant], input, dims, PHASE_S));
  }
  await Promise.all(Object.values(sessions).map((s) => s.release()));

  const summary = (xs: Phase[]): Phase => ({
    imagesPerSecond: median(xs.map((x) => x.imagesPerSecond)),
    maxStallMs: Math.max(...xs.map((x) => x.maxStallMs)),
    p99StallMs: median(xs.map((x) => x.p99StallMs)),
    ticksPerSecond: median(xs.map((x) => x.ticksPerSecond)),
  });
  const main = summary(rounds.main);
  const worker = summary(rounds.worker);
  const round = (p: Phase): Phase => ({
    imagesPerSecond: r2(p.imagesPerSecond),
    maxStallMs: r2(p.maxStallMs),
    p99StallMs: r2(p.p99StallMs),
    ticksPerSecond: r2(p.ticksPerSecond),
  });
  const ratios = {
    throughputWorkerToMain: r3(worker.imagesPerSecond / main.imagesPerSecond),
    maxStallWorkerToMain: r3(worker.maxStallMs / main.maxStallMs),
    p99StallWorkerToMain: r3(worker.p99StallMs / main.p99StallMs),
    ticksWorkerToMain: r3(worker.ticksPerSecond / Math.max(main.ticksPerSecond, 1e-9)),
  };
  const result = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverageAtStart: loadAtStart.map(r2),
    loadAverageAtEnd: loadavg().map(r2),
    model: source,
    inputSize: size,
    batch: BATCH,
    secondsPerPhase: PHASE_S,
    rounds: ROUNDS,
    main: { ...round(main), perRound: rounds.main.map(round) },
    worker: { ...round(worker), perRound: rounds.worker.map(round) },
    ratios,
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/session-thread.json'), `${JSON.stringify(result, null, 2)}\n`);

  const rows: string[][] = [
    ['', 'img/s (median)', 'worst stall ms', 'p99 stall ms', '1 ms ticks/s'],
    ...(['main', 'worker'] as const).map((v) => {
      const p = v === 'main' ? main : worker;
      return [
        v,
        p.imagesPerSecond.toFixed(1),
        p.maxStallMs.toFixed(1),
        p.p99StallMs.toFixed(1),
        p.ticksPerSecond.toFixed(0),
      ];
    }),
    [
      'worker / main',
      ratios.throughputWorkerToMain.toFixed(3),
      ratios.maxStallWorkerToMain.toFixed(3),
      ratios.p99StallWorkerToMain.toFixed(3),
      ratios.ticksWorkerToMain.toFixed(2),
    ],
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`model: ${source}; batch ${BATCH}; ${ROUNDS} rounds of ${PHASE_S}s per variant`);
  for (const r of rows)
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
  console.log('wrote bench/results/session-thread.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

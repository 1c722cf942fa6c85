/**
 * Decode + preprocess throughput, inline on the main thread vs through the DecodePool, on ~100 chest
 * JPEGs from the shared data: `node -r @swc-node/register bench/decode-pool.bench.ts [files] [workers] [jobsPerWorker]`.
 * Also reports how busy the main thread's event loop was and its worst stall in each mode (the pool
 * exists so decoding never blocks the loop). Inline and pool passes alternate for three rounds; medians are printed with their ratio.
 * Writes bench/results/decode-pool.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { warmUpCodecs } from '../src/imaging';
import { decodeAndPrepare, DecodePool } from '../src/inference/decode-pool';

const ROOT = path.resolve(__dirname, '..');
const SHARED = path.resolve(process.env.CARE_SHARED_DIR ?? path.join(ROOT, '..', 'shared'));
const CHEST = path.join(SHARED, 'datasets/chest/tbx11k/images');
const COUNT = Number(process.argv[2] ?? 100);
const WORKERS = Number(process.argv[3] ?? availableParallelism());
const JOBS_PER_WORKER = Number(process.argv[4] ?? 1);
const LIMITS = { maxBytes: 256 * 1024 * 1024, maxPixels: 50_000_000 };
const SIZE = 224;
const ROUNDS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Measured {
  ips: number;
  maxLoopStallMs: number;
  /** Share of the wall time the main thread's event loop was busy (not waiting). */
  mainThreadBusy: number;
}

async function measure(run: () => Promise<void>): Promise<Measured> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  await run();
  const s = (performance.now() - t0) / 1000;
  const used = performance.eventLoopUtilization(elu);
  h.disable();
  return { ips: COUNT / s, maxLoopStallMs: h.max / 1e6, mainThreadBusy: used.utilization };
}

async function main(): Promise<void> {
  if (!existsSync(CHEST)) throw new Error(`no chest images at ${CHEST} (set CARE_SHARED_DIR)`);
  const names = readdirSync(CHEST)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, COUNT);
  const files = names.map((f) => readFileSync(path.join(CHEST, f)));
  await warmUpCodecs();
  const pool = new DecodePool({ limits: LIMITS, size: WORKERS, jobsPerWorker: JOBS_PER_WORKER });
  await pool.ready();
  // Warm both paths (JIT, codec instantiation).
  await Promise.all(files.slice(0, 4).map((b) => decodeAndPrepare(b, SIZE, LIMITS)));
  await Promise.all(files.slice(0, 4).map((b) => pool.decode(new Uint8Array(b), SIZE)));

  const inline: Measured[] = [];
  const pooled: Measured[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    inline.push(
      await measure(async () => {
        for (const b of files) await decodeAndPrepare(b, SIZE, LIMITS);
      }),
    );
    pooled.push(
      await measure(async () => {
        // The pool transfers (detaches) a buffer it is given, so each round hands it a copy.
        await Promise.all(files.map((b) => pool.decode(new Uint8Array(b), SIZE)));
      }),
    );
    console.error(
      `round ${r + 1}: inline ${inline[r]!.ips.toFixed(1)} img/s, pool ${pooled[r]!.ips.toFixed(1)} img/s`,
    );
  }
  await pool.close();

  const result = {
    node: process.version,
    cores: availableParallelism(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    files: files.length,
    workers: WORKERS,
    jobsPerWorker: JOBS_PER_WORKER,
    tensorSize: SIZE,
    inlineImagesPerSecond: Number(median(inline.map((x) => x.ips)).toFixed(1)),
    poolImagesPerSecond: Number(median(pooled.map((x) => x.ips)).toFixed(1)),
    ratioPoolToInline: Number(
      (median(pooled.map((x) => x.ips)) / median(inline.map((x) => x.ips))).toFixed(3),
    ),
    inlineMaxEventLoopStallMs: Number(median(inline.map((x) => x.maxLoopStallMs)).toFixed(1)),
    poolMaxEventLoopStallMs: Number(median(pooled.map((x) => x.maxLoopStallMs)).toFixed(1)),
    inlineMainThreadBusy: Number(median(inline.map((x) => x.mainThreadBusy)).toFixed(3)),
    poolMainThreadBusy: Number(median(pooled.map((x) => x.mainThreadBusy)).toFixed(3)),
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/decode-pool.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `${files.length} chest JPEGs → ${SIZE}x${SIZE} tensors, ${WORKERS} workers, median of ${ROUNDS} alternating rounds`,
  );
  console.log(
    `inline          ${result.inlineImagesPerSecond.toFixed(1).padStart(8)} img/s   main thread busy ${(result.inlineMainThreadBusy * 100).toFixed(0)}%   worst event-loop stall ${result.inlineMaxEventLoopStallMs} ms`,
  );
  console.log(
    `pool            ${result.poolImagesPerSecond.toFixed(1).padStart(8)} img/s   main thread busy ${(result.poolMainThreadBusy * 100).toFixed(0)}%   worst event-loop stall ${result.poolMaxEventLoopStallMs} ms`,
  );
  console.log(`ratio pool/inline ${result.ratioPoolToInline.toFixed(3)}`);
  console.log('wrote bench/results/decode-pool.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

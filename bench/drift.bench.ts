/**
 * Drift detector evaluation on real data (chest v1): a window of Kermany paediatric films, then a
 * window of NIH adult films, compared with the model's reference profile (training split); then the
 * false-alarm rate over many windows drawn from the held-out val/test films with the training split's
 * source mix; and the detection rate over many NIH windows. Writes bench/results/drift.json
 * (drift-window-<N>.json for another WINDOW).
 *
 * `npm run bench -- drift` (options: WINDOW=100 WINDOWS=100 PERMUTATIONS=500 ALPHA=0.01 PSI=0.25).
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel } from '../src/inference/model-loader';
import { OnnxSessionFactory } from '../src/inference/onnx/onnx-session.factory';
import { detectDrift, DriftThresholds } from '../src/monitoring/drift-detection/drift-detector';
import { falseAlarmRate, LabelledObservation, verdictOf } from './drift-evaluation';
import { observeFiles } from '../src/monitoring/drift-detection/observation';
import { loadReferenceProfile } from '../src/monitoring/drift-detection/reference-profile';
import { readManifest, sampleRows } from '../src/monitoring/drift-detection/training-manifest';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const shared = resolve(process.env.CARE_SHARED_DIR ?? join(root, '..', 'shared'));
  const dir = join(root, 'models', 'chest', 'v1');
  const profile = loadReferenceProfile(join(root, 'models'), 'chest', 'v1');
  if (!profile) throw new Error('models/chest/v1 has no reference profile: run npm run drift:profile');
  const windowSize = env('WINDOW', 100);
  const windows = env('WINDOWS', 100);
  const thresholds: DriftThresholds = {
    alpha: env('ALPHA', 0.01),
    psiThreshold: env('PSI', 0.25),
    permutations: env('PERMUTATIONS', 500),
    seed: 42,
  };
  const manifest = readManifest(join(dir, 'manifest.csv'));
  const heldOut = manifest.filter((r) => r.split === 'val' || r.split === 'test');
  const trainMix: Record<string, number> = {};
  for (const r of manifest.filter((r) => r.split === 'train'))
    trainMix[r.source] = (trainMix[r.source] ?? 0) + 1;

  const model = await loadModel(dir, new OnnxSessionFactory(), {
    executionProviders: ['cpu'],
    intraOpThreads: 1,
  });
  const t0 = Date.now();
  const observed = await observeFiles(
    model,
    heldOut.map((r) => join(shared, 'datasets', r.path)),
    { onProgress: (n) => process.stderr.write(`\rheld-out films: ${n}/${heldOut.length}`) },
  );
  process.stderr.write('\n');
  const observeSeconds = (Date.now() - t0) / 1000;
  const pool: LabelledObservation[] = [];
  observed.forEach((o, i) => {
    if (o.observation) pool.push({ source: heldOut[i]!.source, observation: o.observation });
  });
  const of = (source: string) => pool.filter((p) => p.source === source);

  const timed = <T>(fn: () => T): [T, number] => {
    const s = performance.now();
    const r = fn();
    return [r, performance.now() - s];
  };
  const kermanyWindow = sampleRows(of('kermany'), windowSize, 1).map((p) => p.observation);
  const nihWindow = sampleRows(of('nih'), windowSize, 2).map((p) => p.observation);
  const [kermany, kermanyMs] = timed(() => verdictOf(detectDrift(profile, kermanyWindow, thresholds)));
  const [nih] = timed(() => verdictOf(detectDrift(profile, nihWindow, thresholds)));

  const nihRuns = 20;
  let nihDetected = 0;
  let nihEmbedding = 0;
  for (let w = 0; w < nihRuns; w++) {
    const v = verdictOf(
      detectDrift(
        profile,
        sampleRows(of('nih'), windowSize, 500 + w).map((p) => p.observation),
        { ...thresholds, seed: thresholds.seed + w },
      ),
    );
    if (v.alarmed) nihDetected++;
    if (v.signals.embedding?.drifted) nihEmbedding++;
  }
  const [falseAlarms, faMs] = timed(() =>
    falseAlarmRate(profile, pool, trainMix, thresholds, windows, windowSize),
  );

  const result = {
    model: 'chest v1',
    notice: 'Monitoring evaluation; AI assistance, requires clinician review.',
    reference: { ...profile.source, components: profile.embedding.components },
    heldOutPool: Object.fromEntries([...new Set(pool.map((p) => p.source))].map((s) => [s, of(s).length])),
    windowSize,
    thresholds: { ...thresholds, perTestLevel: thresholds.alpha / 4 },
    realShift: {
      kermanyWindow: kermany,
      nihWindowAfterKermany: nih,
      nihWindowsDetected: { windows: nihRuns, alarmed: nihDetected, embeddingSignal: nihEmbedding },
    },
    inDistribution: { trainingSourceMix: trainMix, ...falseAlarms },
    timings: {
      observeHeldOutSeconds: Math.round(observeSeconds * 10) / 10,
      detectOneWindowMs: Math.round(kermanyMs),
      falseAlarmWindowsSeconds: Math.round(faMs / 100) / 10,
    },
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const name = windowSize === 100 ? 'drift.json' : `drift-window-${windowSize}.json`;
  writeFileSync(join(root, 'bench', 'results', name), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  await model.session.release();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * `npm run drift:profile -- --task chest --version v1 [--sample 500] [--components 32] [--seed 1234]`:
 * runs the committed model over a seeded sample of its training split (from its manifest.csv, films
 * under `<shared>/datasets/`) with the server's preprocessing, and writes
 * `models/<task>/<version>/reference-profile.json` for drift detection.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../inference/model-loader';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import type { DriftObservation } from '../monitoring/drift-detection/drift-detector';
import { observeFiles } from '../monitoring/drift-detection/observation';
import { buildReferenceProfile } from '../monitoring/drift-detection/profile-builder';
import { REFERENCE_PROFILE_FILE } from '../monitoring/drift-detection/reference-profile';
import { readManifest, sampleRows } from '../monitoring/drift-detection/training-manifest';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      task: { type: 'string' },
      version: { type: 'string' },
      sample: { type: 'string', default: '500' },
      components: { type: 'string', default: '32' },
      seed: { type: 'string', default: '1234' },
      split: { type: 'string', default: 'train' },
      'models-dir': { type: 'string', default: 'models' },
      'shared-dir': { type: 'string', default: process.env.CARE_SHARED_DIR ?? '../shared' },
    },
  });
  if (!values.task || !values.version) {
    console.error('usage: drift:profile -- --task chest|wrist --version v1 [--sample 500] [--components 32]');
    process.exit(2);
  }
  const dir = join(values['models-dir']!, values.task, values.version);
  const manifestPath = join(dir, 'manifest.csv');
  const population = readManifest(manifestPath).filter((r) => r.split === values.split);
  const seed = Number(values.seed);
  const rows = sampleRows(population, Number(values.sample), seed);
  const model = await loadModel(dir, new OnnxSessionFactory(), {
    executionProviders: ['cpu'],
    intraOpThreads: 1,
  });
  const datasets = resolve(values['shared-dir']!, 'datasets');
  const started = Date.now();
  const observed = await observeFiles(
    model,
    rows.map((r) => join(datasets, r.path)),
    { onProgress: (n) => process.stderr.write(`\r${n}/${rows.length}`) },
  );
  process.stderr.write('\n');
  const accepted = observed.map((o) => o.observation).filter((o): o is DriftObservation => o !== null);
  const bySource: Record<string, number> = {};
  for (const r of rows) bySource[r.source] = (bySource[r.source] ?? 0) + 1;
  const profile = buildReferenceProfile(
    {
      task: values.task,
      version: values.version,
      manifestPath,
      split: values.split!,
      population: population.length,
      sampled: rows.length,
      seed,
      preprocessing: model.manifest.preprocessing.id,
      bySource,
      classes: model.manifest.classes,
    },
    accepted,
    Number(values.components),
  );
  const file = join(dir, REFERENCE_PROFILE_FILE);
  writeFileSync(file, `${JSON.stringify(profile)}\n`);
  await model.session.release();
  console.log(
    JSON.stringify({
      file,
      sampled: rows.length,
      accepted: accepted.length,
      explainedVarianceRatio: profile.embedding.explainedVarianceRatio,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel } from '../../inference/model-loader';
import { OnnxSessionFactory } from '../../inference/onnx/onnx-session.factory';
import type { DriftObservation } from './drift-detector';
import { observeFiles } from './observation';
import { buildReferenceProfile } from './profile-builder';
import { REFERENCE_PROFILE_FILE } from './reference-profile';
import { readManifest, sampleRows } from './training-manifest';

/** Inputs of {@link profileTrainingSample}. */
export interface TrainingSampleOptions {
  task: string;
  version: string;
  /** Model repository root (holds `<task>/<version>/`). */
  modelsDir: string;
  /** Shared data root: the manifest's paths are relative to its `datasets/`. */
  sharedDir: string;
  /** Films to sample from the split. */
  sample: number;
  /** PCA axes of the embedding. */
  components: number;
  seed: number;
  /** Manifest split to sample (the training split). */
  split: string;
  /** Called with the number of films read so far. */
  onProgress?: (done: number, total: number) => void;
}

/** What was written. */
export interface TrainingSampleProfile {
  file: string;
  sampled: number;
  accepted: number;
  explainedVarianceRatio: number;
}

/**
 * Writes a model version's reference profile (`models/<task>/<version>/reference-profile.json`, what
 * `npm run drift:profile` makes): runs the committed model over a seeded sample of its training split
 * (its manifest.csv) with the server's preprocessing, and summarises the readings the gate accepted
 * ({@link buildReferenceProfile}).
 */
export async function profileTrainingSample(o: TrainingSampleOptions): Promise<TrainingSampleProfile> {
  const dir = join(o.modelsDir, o.task, o.version);
  const manifestPath = join(dir, 'manifest.csv');
  const population = readManifest(manifestPath).filter((r) => r.split === o.split);
  const rows = sampleRows(population, o.sample, o.seed);
  const model = await loadModel(dir, new OnnxSessionFactory(), {
    executionProviders: ['cpu'],
    intraOpThreads: 1,
  });
  try {
    const datasets = resolve(o.sharedDir, 'datasets');
    const observed = await observeFiles(
      model,
      rows.map((r) => join(datasets, r.path)),
      { onProgress: (n) => o.onProgress?.(n, rows.length) },
    );
    const accepted = observed.map((v) => v.observation).filter((v): v is DriftObservation => v !== null);
    const bySource: Record<string, number> = {};
    for (const r of rows) bySource[r.source] = (bySource[r.source] ?? 0) + 1;
    const profile = buildReferenceProfile(
      {
        task: o.task,
        version: o.version,
        manifestPath,
        split: o.split,
        population: population.length,
        sampled: rows.length,
        seed: o.seed,
        preprocessing: model.manifest.preprocessing.id,
        bySource,
        classes: model.manifest.classes,
      },
      accepted,
      o.components,
    );
    const file = join(dir, REFERENCE_PROFILE_FILE);
    writeFileSync(file, `${JSON.stringify(profile)}\n`);
    return {
      file,
      sampled: rows.length,
      accepted: accepted.length,
      explainedVarianceRatio: profile.embedding.explainedVarianceRatio,
    };
  } finally {
    await model.session.release();
  }
}

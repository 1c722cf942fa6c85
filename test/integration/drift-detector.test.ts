/**
 * The drift detector on real films through the real chest v1 model (server preprocessing): a window of
 * NIH adult films must drift from the reference profile (training split), on the embedding itself;
 * windows drawn from held-out films with the training split's source mix must not.
 * The false-alarm rate over 100 windows is measured by `npm run bench -- drift`, not here.
 */
import { join } from 'node:path';
import { loadModel, LoadedModel } from '../../src/inference/model-loader';
import { OnnxSessionFactory } from '../../src/inference/onnx/onnx-session.factory';
import { detectDrift, DriftObservation } from '../../src/monitoring/drift-detection/drift-detector';
import { observeFiles } from '../../src/monitoring/drift-detection/observation';
import {
  loadReferenceProfile,
  ReferenceProfile,
} from '../../src/monitoring/drift-detection/reference-profile';
import { inDistributionFilms, nihFilms } from '../support/drift-films';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';

const ROOT = join(__dirname, '..', '..');
const THRESHOLDS = { alpha: 0.01, psiThreshold: 0.25, permutations: 500, seed: 42 };
const have = sharedDataAvailable();

let model: LoadedModel;
let profile: ReferenceProfile;

async function observe(paths: string[]): Promise<DriftObservation[]> {
  const out = await observeFiles(
    model,
    paths.map((p) => join(SHARED_DIR, 'datasets', p)),
  );
  return out.flatMap((o) => (o.observation ? [o.observation] : []));
}

beforeAll(async () => {
  if (!have) return;
  model = await loadModel(join(ROOT, 'models', 'chest', 'v1'), new OnnxSessionFactory(), {
    executionProviders: ['cpu'],
    intraOpThreads: 1,
  });
  profile = loadReferenceProfile(join(ROOT, 'models'), 'chest', 'v1')!;
});
afterAll(async () => model?.session.release());

(have ? describe : describe.skip)('drift detector on real films (chest v1)', () => {
  it('has a committed reference profile built from the training split', () => {
    expect(profile.source.split).toBe('train');
    expect(profile.embedding.sample.length).toBeGreaterThanOrEqual(400);
    expect(profile.embedding.axes).toHaveLength(profile.embedding.components);
  });

  it('raises drift on a window of NIH adult films, on the embedding MMD itself', async () => {
    const window = await observe(nihFilms(100, 2));
    expect(window.length).toBeGreaterThanOrEqual(90);
    const results = detectDrift(profile, window, THRESHOLDS);
    const embedding = results.find((r) => r.signal === 'embedding')!;
    expect(embedding.drifted).toBe(true);
    expect(embedding.pValue).toBeLessThanOrEqual(THRESHOLDS.alpha / 4);
  }, 240_000);

  it('raises nothing on windows of held-out films with the training source mix', async () => {
    for (const seed of [1, 2]) {
      const window = await observe(inDistributionFilms(100, seed));
      const drifted = detectDrift(profile, window, THRESHOLDS).filter((r) => r.drifted);
      expect({ seed, drifted: drifted.map((r) => r.signal) }).toEqual({ seed, drifted: [] });
    }
  }, 240_000);
});

import { detectDrift, DriftObservation, meanIntensity, megapixels, P_VALUE_SIGNALS } from './drift-detector';
import { buildReferenceProfile } from './profile-builder';
import { seededRandom } from '../../shared/random';
import { InlineDriftDetector, WorkerDriftDetector } from './worker-drift-detector';

const gaussian = (random: () => number) =>
  Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());

/** Synthetic observations: 8-d embeddings around `shift`, 224² JPEGs, a fixed class mix. */
function observations(n: number, seed: number, shift = 0, overrides: Partial<DriftObservation> = {}) {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i): DriftObservation => {
    const bright = Math.min(15, Math.max(0, Math.round(8 + gaussian(random) * 2)));
    const histogram = Array.from({ length: 16 }, (_, k) => (k === bright ? 0.6 : 0.4 / 15));
    return {
      embedding: Array.from({ length: 8 }, () => gaussian(random) + shift),
      confidence: 0.6 + 0.3 * random(),
      predictedClass: ['A', 'B', 'B'][i % 3]!,
      intensityHistogram: histogram,
      width: 224,
      height: 224,
      bitsStored: 8,
      format: 'JPEG',
      ...overrides,
    };
  });
}

const profile = buildReferenceProfile(
  {
    task: 't',
    version: 'v1',
    manifestPath: 'm.csv',
    split: 'train',
    population: 400,
    sampled: 400,
    seed: 1,
    preprocessing: 'p',
    bySource: { s: 400 },
    classes: ['A', 'B'],
  },
  observations(400, 1),
  4,
);
const thresholds = { alpha: 0.01, psiThreshold: 0.25, permutations: 499, seed: 3 };
const drifted = (window: DriftObservation[]) =>
  detectDrift(profile, window, thresholds)
    .filter((r) => r.drifted)
    .map((r) => r.signal);

describe('detectDrift', () => {
  it('tests p-value signals at alpha / their number (Bonferroni) and PSI signals at the PSI threshold', () => {
    const results = detectDrift(profile, observations(60, 2), thresholds);
    expect(P_VALUE_SIGNALS).toBe(4);
    for (const r of results) expect(r.threshold).toBe(r.pValue === null ? 0.25 : 0.01 / 4);
    expect(results.map((r) => r.signal)).toHaveLength(8);
  });

  it('raises nothing on windows from the reference distribution', () => {
    for (const seed of [2, 3, 4, 6, 8])
      expect({ seed, drifted: drifted(observations(60, seed)) }).toEqual({ seed, drifted: [] });
  });

  it('flags the embedding when the embeddings move, and only it', () => {
    expect(drifted(observations(60, 4, 1))).toEqual(['embedding']);
  });

  it('flags input statistics: size, format and bit depth of a new scanner', () => {
    expect(
      drifted(observations(60, 7, 0, { width: 2048, height: 2500, format: 'DICOM', bitsStored: 12 })),
    ).toEqual(['image_size', 'bit_depth', 'format']);
  });

  it('flags a changed class mix by PSI', () => {
    expect(drifted(observations(60, 6, 0, { predictedClass: 'A' }))).toEqual(['predicted_class']);
  });

  it('compares rounded scalars on both sides (a discrete size equal to the reference is no drift)', () => {
    expect(megapixels({ width: 224, height: 224 })).toBe(0.05018);
    expect(meanIntensity(Array.from({ length: 16 }, () => 1 / 16))).toBe(0.5);
    expect(profile.imageSize.sample.every((v) => v === 0.05018)).toBe(true);
  });
});

describe('WorkerDriftDetector', () => {
  it('gives the inline answer from a worker thread, sending each profile once', async () => {
    const worker = new WorkerDriftDetector();
    try {
      // Stored embeddings are float32 (as in drift_sample), which is what the worker receives.
      const f32 = (w: DriftObservation[]) =>
        w.map((o) => ({ ...o, embedding: Float32Array.from(o.embedding) }));
      const window = f32(observations(60, 4, 1));
      const expected = await new InlineDriftDetector().detect('t/v1', profile, window, thresholds);
      expect(await worker.detect('t/v1', profile, window, thresholds)).toEqual(expected);
      // Second call: the worker already holds the profile (it is not sent again).
      const postMessage = jest.spyOn(
        (worker as unknown as { worker: { postMessage: (m: unknown) => void } }).worker,
        'postMessage',
      );
      expect(await worker.detect('t/v1', profile, f32(observations(60, 2)), thresholds)).toEqual(
        detectDrift(profile, f32(observations(60, 2)), thresholds),
      );
      expect((postMessage.mock.calls[0]![0] as { profile?: unknown }).profile).toBeUndefined();
    } finally {
      await worker.close();
    }
  });

  it('reports a failing window as an error, not a crash', async () => {
    const worker = new WorkerDriftDetector();
    try {
      await expect(worker.detect('t/v1', profile, observations(1, 2), thresholds)).rejects.toThrow(
        /drift detection failed/,
      );
    } finally {
      await worker.close();
    }
  });
});

/**
 * The drift detector: tests a window of accepted readings against a model version's reference profile,
 * one statistic per signal. `monitoring/drift-detection/` is the statistics side (detector, tests,
 * reference profiles and their builder, worker thread); the drift feature that samples readings, stores
 * checks and raises alerts is `domain/drift/` (DriftService).
 */
import type { ReferenceProfile } from './reference-profile';
import { categoryProportions, ksTwoSample, mmdPermutationTest, project, psi } from './statistics';

/** What the detector needs from one accepted prediction (a compact, PHI-free record). */
export interface DriftObservation {
  /** The model's penultimate output (full dimension). */
  embedding: ArrayLike<number>;
  /** Highest calibrated class probability. */
  confidence: number;
  predictedClass: string;
  /** Display-intensity histogram of the model input (proportions). */
  intensityHistogram: number[];
  width: number;
  height: number;
  bitsStored: number;
  format: string;
}

/** Thresholds and test settings (from configuration). */
export interface DriftThresholds {
  /** Family-wise false-alarm level shared (Bonferroni) by the signals that have a p-value. */
  alpha: number;
  /** PSI above which a binned/categorical signal counts as drifted. */
  psiThreshold: number;
  /** Permutations of the MMD test. */
  permutations: number;
  /** Seed of the permutation test (fixed so a window always gives the same answer). */
  seed: number;
}

/** Signals the detector compares, each with the test suited to it. */
export const DRIFT_SIGNALS = [
  { signal: 'embedding', statistic: 'MMD2_RBF' },
  { signal: 'confidence', statistic: 'KS' },
  { signal: 'intensity_mean', statistic: 'KS' },
  { signal: 'image_size', statistic: 'KS' },
  { signal: 'predicted_class', statistic: 'PSI' },
  { signal: 'intensity_histogram', statistic: 'PSI' },
  { signal: 'bit_depth', statistic: 'PSI' },
  { signal: 'format', statistic: 'PSI' },
] as const;

/** Name of a drift signal. */
export type DriftSignal = (typeof DRIFT_SIGNALS)[number]['signal'];

/** Number of signals tested with a p-value (the Bonferroni family). */
export const P_VALUE_SIGNALS = DRIFT_SIGNALS.filter((s) => s.statistic !== 'PSI').length;

/** One signal's verdict on one window. */
export interface SignalResult {
  signal: DriftSignal;
  statistic: string;
  /** Value of the statistic (MMD², KS D, or PSI). */
  value: number;
  /** p-value for tests that have one; null for PSI. */
  pValue: number | null;
  /** What was compared with: the per-test p-value level (Bonferroni), or the PSI threshold. */
  threshold: number;
  drifted: boolean;
}

/**
 * Scalar features are rounded to 4 significant digits on both sides (reference files store them so):
 * otherwise a discrete signal such as image size would differ from its stored reference by rounding
 * alone, and KS would call every window drifted.
 */
const r4 = (v: number) => Number(v.toPrecision(4));

/** Mean display intensity of one image from its histogram (bin centres), 4 significant digits. */
export function meanIntensity(histogram: readonly number[]): number {
  const bins = histogram.length;
  return r4(histogram.reduce((s, p, k) => s + p * ((k + 0.5) / bins), 0));
}

/** Image size in megapixels, 4 significant digits. */
export function megapixels(o: Pick<DriftObservation, 'width' | 'height'>): number {
  return r4((o.width * o.height) / 1e6);
}

/**
 * Compares a window of observations with a model version's reference profile, one test per signal:
 * MMD with a permutation p-value on PCA-reduced embeddings (image drift is measured on what the model
 * sees, not raw pixels), KS on scalar signals, PSI on binned/categorical ones. p-value tests share
 * the family-wise level `alpha` by Bonferroni (each is tested at alpha / their number).
 */
export function detectDrift(
  profile: ReferenceProfile,
  window: readonly DriftObservation[],
  thresholds: DriftThresholds,
): SignalResult[] {
  if (window.length < 2) throw new RangeError('A drift window needs at least two observations');
  const level = thresholds.alpha / P_VALUE_SIGNALS;
  const tested = (signal: DriftSignal, statistic: string, value: number, pValue: number): SignalResult => ({
    signal,
    statistic,
    value,
    pValue,
    threshold: level,
    drifted: pValue <= level,
  });
  const binned = (signal: DriftSignal, expected: number[], actual: number[]): SignalResult => {
    const value = psi(expected, actual);
    return {
      signal,
      statistic: 'PSI',
      value,
      pValue: null,
      threshold: thresholds.psiThreshold,
      drifted: value > thresholds.psiThreshold,
    };
  };
  const emb = profile.embedding;
  const projected = window.map((o) => project({ mean: emb.mean, components: emb.axes }, o.embedding));
  const mmd = mmdPermutationTest(emb.sample, projected, {
    permutations: thresholds.permutations,
    seed: thresholds.seed,
  });
  const confidence = ksTwoSample(
    profile.confidence.sample,
    window.map((o) => o.confidence),
  );
  const intensity = ksTwoSample(
    profile.intensityMean.sample,
    window.map((o) => meanIntensity(o.intensityHistogram)),
  );
  const size = ksTwoSample(profile.imageSize.sample, window.map(megapixels));
  const bins = profile.intensityHistogram.bins;
  const meanHistogram = new Array<number>(bins).fill(0);
  for (const o of window)
    for (let k = 0; k < bins; k++) meanHistogram[k]! += (o.intensityHistogram[k] ?? 0) / window.length;
  const cats = (p: { categories: string[] }, values: string[]) => categoryProportions(values, p.categories);
  const withExtra = (p: { categories: string[]; proportions: number[] }) =>
    p.proportions.length === p.categories.length ? [...p.proportions, 0] : p.proportions;
  return [
    tested('embedding', 'MMD2_RBF', mmd.statistic, mmd.pValue),
    tested('confidence', 'KS', confidence.statistic, confidence.pValue),
    tested('intensity_mean', 'KS', intensity.statistic, intensity.pValue),
    tested('image_size', 'KS', size.statistic, size.pValue),
    binned(
      'predicted_class',
      withExtra(profile.predictedClass),
      cats(
        profile.predictedClass,
        window.map((o) => o.predictedClass),
      ),
    ),
    binned('intensity_histogram', profile.intensityHistogram.proportions, meanHistogram),
    binned(
      'bit_depth',
      withExtra(profile.bitDepth),
      cats(
        profile.bitDepth,
        window.map((o) => String(o.bitsStored)),
      ),
    ),
    binned(
      'format',
      withExtra(profile.format),
      cats(
        profile.format,
        window.map((o) => o.format),
      ),
    ),
  ];
}

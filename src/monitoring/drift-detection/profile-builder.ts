import type { DriftObservation } from './drift-detector';
import { meanIntensity, megapixels } from './drift-detector';
import type { ReferenceProfile } from './reference-profile';
import { categoryProportions, fitPca, project } from './statistics';

/** Where a profile's sample came from (recorded in the file). */
export interface ProfileSource {
  task: string;
  version: string;
  manifestPath: string;
  split: string;
  population: number;
  sampled: number;
  seed: number;
  preprocessing: string;
  bySource: Record<string, number>;
  classes: string[];
}

const round = (v: number, digits = 5) => Number(v.toPrecision(digits));

/** Every input format the server decodes: a format never seen in training still gets its own bin. */
const FORMATS = ['PNG', 'JPEG', 'DICOM'];

/**
 * Summarises the accepted observations of a training sample into a {@link ReferenceProfile}: PCA of
 * the embeddings (`components` axes) with the projected sample, the scalar samples for KS, and
 * proportions for the binned signals.
 */
export function buildReferenceProfile(
  source: ProfileSource,
  observations: readonly DriftObservation[],
  components = 32,
): ReferenceProfile {
  if (observations.length < components + 2)
    throw new RangeError(
      `need more than ${components + 1} accepted observations, got ${observations.length}`,
    );
  const pca = fitPca(
    observations.map((o) => o.embedding),
    components,
  );
  const explained = pca.explainedVariance.reduce((s, v) => s + v, 0) / pca.totalVariance;
  const bins = observations[0]!.intensityHistogram.length;
  const histogram = new Array<number>(bins).fill(0);
  for (const o of observations)
    for (let k = 0; k < bins; k++) histogram[k]! += o.intensityHistogram[k]! / observations.length;
  const bitDepths = [...new Set(['8', '16', ...observations.map((o) => String(o.bitsStored))])].sort(
    (a, b) => Number(a) - Number(b),
  );
  const formats = [...new Set([...FORMATS, ...observations.map((o) => o.format)])];
  return {
    schemaVersion: 1,
    task: source.task,
    version: source.version,
    createdAt: new Date().toISOString(),
    notice: 'Drift reference for monitoring; AI assistance, requires clinician review.',
    source: {
      manifestPath: source.manifestPath,
      split: source.split,
      sampled: source.sampled,
      population: source.population,
      accepted: observations.length,
      seed: source.seed,
      preprocessing: source.preprocessing,
      bySource: source.bySource,
    },
    embedding: {
      dim: pca.mean.length,
      components,
      explainedVarianceRatio: round(explained, 4),
      mean: pca.mean.map((v) => round(v)),
      axes: pca.components.map((c) => c.map((v) => round(v))),
      sample: observations.map((o) => project(pca, o.embedding).map((v) => round(v, 4))),
    },
    confidence: { sample: observations.map((o) => round(o.confidence, 4)) },
    intensityMean: { sample: observations.map((o) => meanIntensity(o.intensityHistogram)) },
    imageSize: { sample: observations.map((o) => megapixels(o)) },
    intensityHistogram: { bins, proportions: histogram.map((v) => round(v, 4)) },
    predictedClass: {
      categories: source.classes,
      proportions: categoryProportions(
        observations.map((o) => o.predictedClass),
        source.classes,
      ).map((v) => round(v, 4)),
    },
    bitDepth: {
      categories: bitDepths,
      proportions: categoryProportions(
        observations.map((o) => String(o.bitsStored)),
        bitDepths,
      ).map((v) => round(v, 4)),
    },
    format: {
      categories: formats,
      proportions: categoryProportions(
        observations.map((o) => o.format),
        formats,
      ).map((v) => round(v, 4)),
    },
  };
}

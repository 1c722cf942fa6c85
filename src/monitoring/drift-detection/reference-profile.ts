import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** File name of a model version's reference profile, beside its `model.json`. */
export const REFERENCE_PROFILE_FILE = 'reference-profile.json';

const proportions = z.object({ categories: z.array(z.string()), proportions: z.array(z.number()) });

/**
 * What production windows are compared with: statistics of the model's own outputs and inputs over a
 * sample of its training split, computed with the server's preprocessing (`npm run drift:profile`).
 * Embeddings are stored PCA-reduced (components fitted on the same sample) to keep the file small.
 */
const referenceProfileSchema = z.object({
  schemaVersion: z.literal(1),
  task: z.string(),
  version: z.string(),
  createdAt: z.string(),
  notice: z.string(),
  source: z.object({
    manifestPath: z.string(),
    split: z.string(),
    sampled: z.number().int(),
    population: z.number().int(),
    accepted: z.number().int(),
    seed: z.number().int(),
    preprocessing: z.string(),
    bySource: z.record(z.number()),
  }),
  embedding: z.object({
    dim: z.number().int(),
    components: z.number().int(),
    explainedVarianceRatio: z.number(),
    mean: z.array(z.number()),
    axes: z.array(z.array(z.number())),
    /** Reference embeddings projected on `axes` (rows). */
    sample: z.array(z.array(z.number())),
  }),
  confidence: z.object({ sample: z.array(z.number()) }),
  intensityMean: z.object({ sample: z.array(z.number()) }),
  imageSize: z.object({ sample: z.array(z.number()) }),
  intensityHistogram: z.object({ bins: z.number().int(), proportions: z.array(z.number()) }),
  predictedClass: proportions,
  bitDepth: proportions,
  format: proportions,
});

/** A parsed reference profile. */
export type ReferenceProfile = z.infer<typeof referenceProfileSchema>;

/** Reads `models/<task>/<version>/reference-profile.json`; null when the version has none. */
export function loadReferenceProfile(
  modelsDir: string,
  task: string,
  version: string,
): ReferenceProfile | null {
  const file = join(modelsDir, task.toLowerCase(), version, REFERENCE_PROFILE_FILE);
  if (!existsSync(file)) return null;
  return referenceProfileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

import { readFile } from 'node:fs/promises';
import { GateVerdict } from '../../inference/gate-verdict';
import type { PreparedImage } from '../../inference/image-preparer';
import { InlineImagePreparer } from '../../inference/image-preparer';
import type { LoadedModel } from '../../inference/model-loader';
import type { Reading } from '../../inference/postprocess';
import { RadiographReader } from '../../inference/radiograph-reader';
import type { DriftObservation } from './drift-detector';

/**
 * The drift record of one reading: null when the gate refused the input (refusals are counted by the
 * gate metrics; their embeddings are by definition far from the training films and would swamp the
 * window). The input statistics come from the first view (the PA view of a wrist study).
 */
export function observationOf(
  reading: Reading,
  firstView: Pick<PreparedImage, 'width' | 'height' | 'bitsStored' | 'format' | 'intensityHistogram'>,
): DriftObservation | null {
  if (reading.gateVerdict !== GateVerdict.ACCEPTED || !reading.probabilities || !reading.label) return null;
  return {
    embedding: reading.embedding,
    confidence: Math.max(...Object.values(reading.probabilities)),
    predictedClass: reading.label,
    intensityHistogram: firstView.intensityHistogram,
    width: firstView.width,
    height: firstView.height,
    bitsStored: firstView.bitsStored,
    format: firstView.format,
  };
}

/** A file run offline through a model, as the server would run it. */
export interface OfflineObservation {
  file: string;
  gateVerdict: GateVerdict;
  observation: DriftObservation | null;
}

/**
 * Runs files through a loaded model with the server's decoding and preprocessing
 * ({@link InlineImagePreparer}) and returns their drift records, in batches. A two-view model (wrist)
 * gets the same film as both views, as in the trainer's evaluation.
 */
export async function observeFiles(
  model: LoadedModel,
  files: readonly string[],
  options: { batchSize?: number; onProgress?: (done: number) => void } = {},
): Promise<OfflineObservation[]> {
  const preparer = new InlineImagePreparer({ maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 });
  const reader = RadiographReader.ofModel(model);
  const views = model.manifest.input.names.length;
  const size = model.manifest.input.size;
  const batchSize = options.batchSize ?? 16;
  const out: OfflineObservation[] = [];
  for (let start = 0; start < files.length; start += batchSize) {
    const batch = files.slice(start, start + batchSize);
    const prepared = await Promise.all(
      batch.map(async (f) => preparer.prepare(await readFile(f), size, model.manifest.preprocessing.id)),
    );
    const items = await reader.readItems(
      prepared.map((p) => Array.from({ length: views }, () => p.tensor)),
      prepared.map((p) => p.quality),
    );
    items.forEach(({ reading: r }, i) =>
      out.push({ file: batch[i]!, gateVerdict: r.gateVerdict, observation: observationOf(r, prepared[i]!) }),
    );
    options.onProgress?.(out.length);
  }
  return out;
}

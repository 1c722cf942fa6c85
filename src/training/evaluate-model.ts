import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { decodeImage } from '../imaging';
import { loadModel } from '../inference/model-loader';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { RadiographReader } from '../inference/radiograph-reader';
import { readCsvRecords } from './csv';
import { evaluate, EvaluatedItem } from './evaluate';

/** Decoding limits for films read from disk (local datasets, not uploads): generous on purpose. */
export const DATASET_FILM_LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };
const LIMITS = DATASET_FILM_LIMITS;

/**
 * Evaluates a model folder on a labels CSV through the server's own decoding, preprocessing and
 * onnxruntime-node path: what `npm run evaluate` prints and what the retraining loop compares candidate
 * and production with.
 */
export async function evaluateModel(options: {
  model: string;
  labels: string;
  /** Folder the CSV's paths are relative to (default: the CSV's own folder). */
  root?: string;
  split?: string;
  resamples?: number;
  batch?: number;
  labelMap?: (row: Record<string, string>) => string | null;
}) {
  const reader = RadiographReader.ofModel(
    await loadModel(options.model, new OnnxSessionFactory(), { executionProviders: ['cpu'] }),
  );
  const manifest = reader.manifest;
  const root = options.root ? resolve(options.root) : dirname(resolve(options.labels));
  const rows = readCsvRecords(await readFile(options.labels, 'utf8')).filter(
    (r) => !options.split || r.split === options.split,
  );
  const skipped: Record<string, number> = {};
  const usable = rows
    .map((r) => ({ row: r, label: options.labelMap ? options.labelMap(r) : r.label }))
    .filter(({ label }) => {
      const ok = label !== null && manifest.classes.includes(label);
      if (!ok) skipped[String(label)] = (skipped[String(label)] ?? 0) + 1;
      return ok;
    });
  const items: EvaluatedItem[] = [];
  const batch = options.batch ?? 32;
  for (let i = 0; i < usable.length; i += batch) {
    const chunk = usable.slice(i, i + batch);
    const studies = await Promise.all(
      chunk.map(async ({ row }) => {
        const files =
          manifest.input.names.length === 2 ? [row.pa || row.path, row.lateral || row.path] : [row.path];
        return Promise.all(files.map(async (f) => decodeImage(await readFile(join(root, f)), LIMITS)));
      }),
    );
    const readings = await reader.read(studies);
    chunk.forEach(({ row, label }, k) =>
      items.push({
        path: row.path || row.pa,
        label: label!,
        source: row.source || 'all',
        reading: readings[k],
      }),
    );
  }
  return { report: evaluate(manifest, items, options.resamples ?? 1000), skipped, manifest };
}

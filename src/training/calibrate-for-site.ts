import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AppError } from '../errors';
import { decodeImage } from '../imaging';
import { loadModel } from '../inference/model-loader';
import { resolveModelDir } from '../inference/model-repository';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { RadiographReader } from '../inference/radiograph-reader';
import { readCsvRecords } from './csv';
import { calibrateSite, checkSiteLabels, SiteFile, SiteItem, SiteLabelsError } from './site-calibration';

/** Decoding limits for films read from disk (a site's own files, not uploads): generous on purpose. */
const LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * Calibrates a model folder on a hospital's labels CSV through the server's decoding, preprocessing and
 * onnxruntime-node path, and returns the site file (not written): what `npm run site:calibrate` writes
 * for `npm run predict -- --site`. A bad labels file is refused with a {@link SiteLabelsError} naming
 * the row.
 */
export async function calibrateForSite(options: {
  task: 'chest' | 'wrist';
  labels: string;
  model?: string;
  modelsDir?: string;
  root?: string;
  targetRecall?: number;
  resamples?: number;
}): Promise<SiteFile> {
  const dir = options.model ?? (await resolveModelDir(options.modelsDir ?? 'models', options.task));
  const text = await readFile(options.labels, 'utf8');
  const root = options.root ? resolve(options.root) : dirname(resolve(options.labels));
  const modelJson = await readFile(join(dir, 'model.json'));
  const model = await loadModel(dir, new OnnxSessionFactory(), { executionProviders: ['cpu'] });
  try {
    const { manifest } = model;
    if (manifest.task !== options.task)
      throw new SiteLabelsError(null, `${dir} is a ${manifest.task} model, not ${options.task}`);
    if (manifest.input.names.length !== 1)
      throw new SiteLabelsError(null, 'site calibration reads one film per row: use a single-view model');
    const rows = checkSiteLabels(readCsvRecords(text), manifest.classes);
    for (const r of rows)
      await access(join(root, r.path)).catch(() => {
        throw new SiteLabelsError(r.row, `file not found: ${r.path}`);
      });
    const reader = RadiographReader.ofModel(model);
    const items: SiteItem[] = [];
    for (let i = 0; i < rows.length; i += 16) {
      const chunk = rows.slice(i, i + 16);
      const images = await Promise.all(
        chunk.map(async (r) => {
          try {
            return [await decodeImage(await readFile(join(root, r.path)), LIMITS)];
          } catch (error) {
            const code = error instanceof AppError ? error.code : 'UNREADABLE';
            throw new SiteLabelsError(r.row, `${r.path} cannot be read as a radiograph (${code})`);
          }
        }),
      );
      const readings = await reader.read(images);
      chunk.forEach((r, k) =>
        items.push({
          ref: r.path,
          label: r.label,
          group: r.group,
          logits: readings[k]!.logits,
          gateVerdict: readings[k]!.gateVerdict,
        }),
      );
    }
    const { evaluation, operatingPoint } = calibrateSite(items, manifest.classes, manifest, {
      targetRecall: options.targetRecall,
      resamples: options.resamples,
    });
    return {
      kind: 'care-companion-site-operating-point',
      task: options.task,
      model: { name: manifest.name, version: manifest.version, modelJsonSha256: sha256(modelJson) },
      createdAt: new Date().toISOString(),
      labels: { file: resolve(options.labels), sha256: sha256(text), n: rows.length },
      operatingPoint,
      evaluation,
    };
  } finally {
    await model.session.release();
  }
}

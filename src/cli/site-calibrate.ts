/**
 * `npm run site:calibrate -- --task chest --labels local.csv [--model DIR] [--root DIR]
 *   [--target-recall 0.98] [--resamples 1000] --out site.json`
 *
 * Measures a model version on a hospital's own labelled films (CSV `path,label[,patient_id]`, paths
 * relative to the CSV or to --root) through the server's decoding, preprocessing and onnxruntime path,
 * chooses the site's operating point (src/training/site-calibration.ts), prints the evaluation as JSON
 * and writes site.json for `npm run predict -- --site site.json`. A bad labels file (unknown label,
 * missing file, duplicate, one class only, a patient with two labels, an unreadable film) is refused
 * naming the row, and nothing is written. Exit code 2 on such errors.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../errors';
import { decodeImage } from '../imaging';
import { loadModel } from '../inference/model-loader';
import { resolveModelDir } from '../inference/model-repository';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { RadiographReader } from '../inference/radiograph-reader';
import { readCsvRecords } from '../training/csv';
import {
  calibrateSite,
  checkSiteLabels,
  SiteFile,
  SiteItem,
  SiteLabelsError,
} from '../training/site-calibration';

const LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** Calibrates a model on a site's labels; returns the site file (not written). Exported for tests. */
export async function siteCalibrate(options: {
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      task: { type: 'string' },
      labels: { type: 'string' },
      model: { type: 'string' },
      'models-dir': { type: 'string', default: 'models' },
      root: { type: 'string' },
      'target-recall': { type: 'string' },
      resamples: { type: 'string', default: '1000' },
      out: { type: 'string' },
    },
  });
  const target = values['target-recall'] === undefined ? undefined : Number(values['target-recall']);
  if (
    (values.task !== 'chest' && values.task !== 'wrist') ||
    !values.labels ||
    !values.out ||
    (target !== undefined && !(target > 0 && target < 1))
  ) {
    console.error(
      'usage: site:calibrate --task chest --labels local.csv [--model DIR] [--root DIR] [--target-recall 0.98] --out site.json',
    );
    process.exit(2);
  }
  const site = await siteCalibrate({
    task: values.task,
    labels: values.labels,
    model: values.model,
    modelsDir: values['models-dir'],
    root: values.root,
    targetRecall: target,
    resamples: Number(values.resamples),
  });
  const tmp = `${values.out}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(site, null, 2));
  await rename(tmp, values.out);
  console.log(JSON.stringify({ operatingPoint: site.operatingPoint, evaluation: site.evaluation }, null, 2));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    const code =
      error instanceof SiteLabelsError
        ? 'SITE_LABELS_INVALID'
        : error instanceof AppError
          ? error.code
          : 'ERROR';
    console.error(JSON.stringify({ error: { code, message: (error as Error).message } }));
    process.exit(2);
  });
}

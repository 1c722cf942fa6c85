/**
 * `npm run site:calibrate -- --task chest --labels local.csv [--model DIR] [--root DIR]
 *   [--target-recall 0.98] [--resamples 1000] --out site.json`
 *
 * Measures a model version on a hospital's own labelled films (CSV `path,label[,patient_id]`, paths
 * relative to the CSV or to --root) through the server's decoding, preprocessing and onnxruntime path,
 * chooses the site's operating point (`training/calibrate-for-site.ts` over
 * `training/site-calibration.ts`), prints the evaluation as JSON and writes site.json for
 * `npm run predict -- --site site.json`. A bad labels file (unknown label,
 * missing file, duplicate, one class only, a patient with two labels, an unreadable film) is refused
 * naming the row, and nothing is written. Exit code 2 on such errors.
 */
import 'reflect-metadata';
import { rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AppError } from '../errors';
import { calibrateForSite } from '../training/calibrate-for-site';
import { SiteLabelsError } from '../training/site-calibration';

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
  const site = await calibrateForSite({
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

/**
 * `npm run predict -- --task chest|wrist [--model <dir>] [--site site.json] <files...>`: one JSON line per
 * image (chest) or per study (wrist: files are taken in pairs, PA then lateral), with calibrated
 * probabilities, the findings flagged at the operating point and the input gate verdict. The newest
 * version under models/<task> reads unless --model names one. `--site` applies a site operating point
 * written by `npm run site:calibrate` (its temperature and thresholds; refused when it was calibrated on
 * another model). Exit code 2 on a usage or load error.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../errors';
import { decodeImage } from '../imaging';
import { loadModel } from '../inference/model-loader';
import { resolveModelDir } from '../inference/model-repository';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { RadiographReader } from '../inference/radiograph-reader';
import { AI_ASSISTANCE_WARNING } from '../schema/types';
import { applySiteOperatingPoint, SiteFileError } from '../training/site-calibration';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      task: { type: 'string' },
      model: { type: 'string' },
      site: { type: 'string' },
      'models-dir': { type: 'string', default: 'models' },
    },
  });
  const task = values.task;
  if (
    (task !== 'chest' && task !== 'wrist') ||
    positionals.length === 0 ||
    (task === 'wrist' && positionals.length % 2)
  ) {
    console.error('usage: predict --task chest <files...> | --task wrist <pa lateral> [<pa lateral> ...]');
    process.exit(2);
  }
  const dir = values.model ?? (await resolveModelDir(values['models-dir']!, task));
  const model = await loadModel(dir, new OnnxSessionFactory(), { executionProviders: ['cpu'] });
  let siteNote: { file: string; validated: true } | { validated: false } = { validated: false };
  if (values.site) {
    const modelJson = await readFile(join(dir, 'model.json'));
    const site = JSON.parse(await readFile(values.site, 'utf8')) as unknown;
    model.manifest = applySiteOperatingPoint(
      model.manifest,
      createHash('sha256').update(modelJson).digest('hex'),
      site,
    );
    siteNote = { file: values.site, validated: true };
  }
  const reader = new RadiographReader(model);
  const perStudy = task === 'wrist' ? 2 : 1;
  for (let i = 0; i < positionals.length; i += perStudy) {
    const files = positionals.slice(i, i + perStudy);
    try {
      const images = await Promise.all(
        files.map(async (f) =>
          decodeImage(await readFile(f), { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 }),
        ),
      );
      const [r] = await reader.read([images]);
      console.log(
        JSON.stringify({
          files,
          model: `${reader.model.manifest.name}@${reader.model.manifest.version}`,
          gateVerdict: r.gateVerdict,
          label: r.label,
          probabilities: r.probabilities,
          findings: r.findings,
          oodDistance: Number(r.oodDistance.toFixed(4)),
          thresholds: Object.fromEntries(
            Object.entries(reader.model.manifest.thresholds).map(([k, t]) => [k, t.value]),
          ),
          siteOperatingPoint: siteNote,
          explanation: r.explanation,
          warning: AI_ASSISTANCE_WARNING,
        }),
      );
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'READ_FAILED';
      console.log(JSON.stringify({ files, error: { code, message: (error as Error).message } }));
      process.exitCode = 1;
    }
  }
}

main().catch((error: unknown) => {
  const code = error instanceof AppError || error instanceof SiteFileError ? error.code : 'ERROR';
  console.error(
    JSON.stringify({
      error: { code, message: (error as Error).message, details: (error as AppError).details },
    }),
  );
  process.exit(2);
});

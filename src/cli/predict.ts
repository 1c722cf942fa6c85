/**
 * `npm run predict -- --task chest|wrist [--model <dir>] [--site site.json] [--per-view] [--heatmap-dir <dir>] <files...>`:
 * one JSON line per image (chest) or per study (wrist: files are taken in pairs, PA then lateral), with
 * calibrated probabilities, the findings flagged at the operating point and the input gate verdict. A wrist
 * model that reads views one at a time (v2) answers a pair as a study fused from its views, with each view's
 * own reading; `--per-view` prints one line per film instead (its P(FRACTURE), the finding at the operating
 * point, the gate verdict). `--heatmap-dir` writes each accepted film's heatmap there and prints its path.
 * The newest version under models/<task> reads unless --model names one. `--site` applies a site operating
 * point written by `npm run site:calibrate` (its temperature and thresholds; refused when it was calibrated
 * on another model). Exit code 2 on a usage or load error.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AI_ASSISTANCE_WARNING } from '../domain/prediction/ai-assistance';
import { AppError } from '../errors';
import { decodeImage, DecodedImage, renderHeatmapPng, toModelInput } from '../imaging';
import { loadModel } from '../inference/model-loader';
import { readsPerView } from '../inference/model-manifest';
import type { Reading } from '../inference/postprocess';
import { resolveModelDir } from '../inference/model-repository';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { RadiographReader } from '../inference/radiograph-reader';
import { applySiteOperatingPoint, SiteFileError } from '../training/site-calibration';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      task: { type: 'string' },
      model: { type: 'string' },
      site: { type: 'string' },
      'models-dir': { type: 'string', default: 'models' },
      'per-view': { type: 'boolean', default: false },
      'heatmap-dir': { type: 'string' },
    },
  });
  const task = values.task;
  const perView = values['per-view']!;
  if (
    (task !== 'chest' && task !== 'wrist') ||
    positionals.length === 0 ||
    (task === 'wrist' && !perView && positionals.length % 2) ||
    (perView && task !== 'wrist')
  ) {
    console.error(
      'usage: predict --task chest <files...> | --task wrist <pa lateral> [<pa lateral> ...] | --task wrist --per-view <files...>',
    );
    process.exit(2);
  }
  const dir = values.model ?? (await resolveModelDir(values['models-dir']!, task));
  const model = await loadModel(dir, new OnnxSessionFactory(), { executionProviders: ['cpu'] });
  if (perView && !readsPerView(model.manifest)) {
    console.error(
      `predict: ${dir} reads PA+lateral pairs; --per-view needs a model that reads one view at a time`,
    );
    process.exit(2);
  }
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
  const manifest = reader.model.manifest;
  const name = `${manifest.name}@${manifest.version}`;
  const decode = async (f: string) =>
    decodeImage(await readFile(f), { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 });
  /** Writes the heatmap of an accepted view when --heatmap-dir is given; its path, or null. */
  const heatmap = async (file: string, image: DecodedImage, r: Reading): Promise<string | null> => {
    const dirOut = values['heatmap-dir'];
    const cam = r.heatmaps.find((h) => h.label === (r.findings[0]?.label ?? r.label));
    if (!dirOut || !cam) return null;
    const { input, preprocessing } = manifest;
    const { tensor } = await toModelInput(image, input.size, preprocessing.id);
    const png = await renderHeatmapPng({ width: input.size, height: input.size, data: tensor }, cam, 256);
    await mkdir(dirOut, { recursive: true });
    const out = join(dirOut, `${basename(file, extname(file))}.heatmap.png`);
    await writeFile(out, png);
    return out;
  };
  const positive = manifest.classes[manifest.classes.length - 1]!;
  const viewLine = async (file: string, view: string | null, image: DecodedImage, r: Reading) => ({
    file,
    ...(view ? { view } : {}),
    gateVerdict: r.gateVerdict,
    probability: r.probabilities ? Number(r.probabilities[positive]!.toFixed(6)) : null,
    finding: r.probabilities ? r.findings.some((f) => f.label === positive) : null,
    heatmap: r.gateVerdict === 'ACCEPTED' && r.probabilities ? await heatmap(file, image, r) : null,
    explanation: r.explanation,
  });
  const thresholds = Object.fromEntries(Object.entries(manifest.thresholds).map(([k, t]) => [k, t.value]));
  const perStudy = perView ? 1 : task === 'wrist' ? 2 : 1;
  for (let i = 0; i < positionals.length; i += perStudy) {
    const files = positionals.slice(i, i + perStudy);
    try {
      const images = await Promise.all(files.map(decode));
      if (perView) {
        const [r] = await reader.read([images]);
        console.log(
          JSON.stringify({
            model: name,
            ...(await viewLine(files[0]!, null, images[0]!, r!)),
            label: positive,
            threshold: thresholds[positive],
            siteOperatingPoint: siteNote,
            warning: AI_ASSISTANCE_WARNING,
          }),
        );
        continue;
      }
      if (task === 'wrist' && readsPerView(manifest)) {
        const views = ['PA', 'LATERAL'].map((view, k) => ({ view, image: images[k]! }));
        const r = await reader.readStudy(views, { allowIncomplete: false });
        console.log(
          JSON.stringify({
            files,
            model: name,
            gateVerdict: r.gateVerdict,
            label: r.label,
            probabilities: r.probabilities,
            findings: r.findings,
            fusion: manifest.study!.rule,
            // A study that was not read carries no finding, not even from a view the gate let through.
            views: await Promise.all(
              r.views.map((v, k) =>
                viewLine(
                  files[k]!,
                  v.view,
                  images[k]!,
                  r.gateVerdict === 'ACCEPTED'
                    ? v.reading
                    : { ...v.reading, probabilities: null, findings: [] },
                ),
              ),
            ),
            missingViews: r.missingViews,
            oodDistance: Number(r.oodDistance.toFixed(4)),
            thresholds,
            siteOperatingPoint: siteNote,
            explanation: r.explanation,
            warning: AI_ASSISTANCE_WARNING,
          }),
        );
        continue;
      }
      const [r] = await reader.read([images]);
      console.log(
        JSON.stringify({
          files,
          model: name,
          gateVerdict: r.gateVerdict,
          label: r.label,
          probabilities: r.probabilities,
          findings: r.findings,
          oodDistance: Number(r.oodDistance.toFixed(4)),
          thresholds,
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

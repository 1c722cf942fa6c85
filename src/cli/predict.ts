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
import { readsPerView, type ModelManifest } from '../inference/model-manifest';
import type { Reading } from '../inference/postprocess';
import { resolveModelDir } from '../inference/model-repository';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { RadiographReader } from '../inference/radiograph-reader';
import { applySiteOperatingPoint, SiteFileError } from '../training/site-calibration';

/** The command line, checked; exits 2 with the usage when it does not make sense. */
function parseCommand() {
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
  return { task, perView, values, files: positionals };
}

type Command = ReturnType<typeof parseCommand>;
type SiteNote = { file: string; validated: true } | { validated: false };

/** The reader of the chosen model, with the site operating point applied when --site names one. */
async function loadReader({ task, perView, values }: Command) {
  const dir = values.model ?? (await resolveModelDir(values['models-dir']!, task));
  const model = await loadModel(dir, new OnnxSessionFactory(), { executionProviders: ['cpu'] });
  if (perView && !readsPerView(model.manifest)) {
    console.error(
      `predict: ${dir} reads PA+lateral pairs; --per-view needs a model that reads one view at a time`,
    );
    process.exit(2);
  }
  let siteNote: SiteNote = { validated: false };
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
  return { reader: RadiographReader.ofModel(model), siteNote };
}

/** What every printed line shares: the model, its operating point, where heatmaps go. */
class Printer {
  readonly manifest: ModelManifest;
  readonly name: string;
  readonly positive: string;
  readonly thresholds: Record<string, number>;

  constructor(
    readonly reader: RadiographReader,
    readonly siteNote: SiteNote,
    private readonly heatmapDir: string | undefined,
  ) {
    this.manifest = reader.manifest;
    this.name = `${this.manifest.name}@${this.manifest.version}`;
    this.positive = this.manifest.classes[this.manifest.classes.length - 1]!;
    this.thresholds = Object.fromEntries(
      Object.entries(this.manifest.thresholds).map(([k, t]) => [k, t.value]),
    );
  }

  /** Writes the heatmap of an accepted view when --heatmap-dir is given; its path, or null. */
  async heatmap(file: string, image: DecodedImage, r: Reading): Promise<string | null> {
    const dirOut = this.heatmapDir;
    const cam = r.heatmaps.find((h) => h.label === (r.findings[0]?.label ?? r.label));
    if (!dirOut || !cam) return null;
    const { input, preprocessing } = this.manifest;
    const { tensor } = await toModelInput(image, input.size, preprocessing.id);
    const png = await renderHeatmapPng({ width: input.size, height: input.size, data: tensor }, cam, 256);
    await mkdir(dirOut, { recursive: true });
    const out = join(dirOut, `${basename(file, extname(file))}.heatmap.png`);
    await writeFile(out, png);
    return out;
  }

  /** One film's reading: P(positive), the finding at the operating point, the gate verdict. */
  async viewLine(file: string, view: string | null, image: DecodedImage, r: Reading) {
    const positive = this.positive;
    return {
      file,
      ...(view ? { view } : {}),
      gateVerdict: r.gateVerdict,
      probability: r.probabilities ? Number(r.probabilities[positive]!.toFixed(6)) : null,
      finding: r.probabilities ? r.findings.some((f) => f.label === positive) : null,
      heatmap: r.gateVerdict === 'ACCEPTED' && r.probabilities ? await this.heatmap(file, image, r) : null,
      explanation: r.explanation,
    };
  }

  /** --per-view: one line for one film. */
  async perView(file: string, image: DecodedImage): Promise<void> {
    const [r] = await this.reader.read([[image]]);
    console.log(
      JSON.stringify({
        model: this.name,
        ...(await this.viewLine(file, null, image, r!)),
        label: this.positive,
        threshold: this.thresholds[this.positive],
        siteOperatingPoint: this.siteNote,
        warning: AI_ASSISTANCE_WARNING,
      }),
    );
  }

  /** A wrist pair read by a per-view model: the study fused from its views, with each view's reading. */
  async wristStudy(files: string[], images: DecodedImage[]): Promise<void> {
    const views = ['PA', 'LATERAL'].map((view, k) => ({ view, image: images[k]! }));
    const r = await this.reader.readStudy(views, { allowIncomplete: false });
    console.log(
      JSON.stringify({
        files,
        model: this.name,
        gateVerdict: r.gateVerdict,
        label: r.label,
        probabilities: r.probabilities,
        findings: r.findings,
        fusion: this.manifest.study!.rule,
        // A study that was not read carries no finding, not even from a view the gate let through.
        views: await Promise.all(
          r.views.map((v, k) =>
            this.viewLine(
              files[k]!,
              v.view,
              images[k]!,
              r.gateVerdict === 'ACCEPTED' ? v.reading : { ...v.reading, probabilities: null, findings: [] },
            ),
          ),
        ),
        missingViews: r.missingViews,
        oodDistance: Number(r.oodDistance.toFixed(4)),
        thresholds: this.thresholds,
        siteOperatingPoint: this.siteNote,
        explanation: r.explanation,
        warning: AI_ASSISTANCE_WARNING,
      }),
    );
  }

  /** A chest film, or a wrist pair read by a pair model. */
  async study(files: string[], images: DecodedImage[]): Promise<void> {
    const [r] = await this.reader.read([images]);
    console.log(
      JSON.stringify({
        files,
        model: this.name,
        gateVerdict: r!.gateVerdict,
        label: r!.label,
        probabilities: r!.probabilities,
        findings: r!.findings,
        oodDistance: Number(r!.oodDistance.toFixed(4)),
        thresholds: this.thresholds,
        siteOperatingPoint: this.siteNote,
        explanation: r!.explanation,
        warning: AI_ASSISTANCE_WARNING,
      }),
    );
  }
}

async function main(): Promise<void> {
  const command = parseCommand();
  const { task, perView, files: positionals } = command;
  const { reader, siteNote } = await loadReader(command);
  const print = new Printer(reader, siteNote, command.values['heatmap-dir']);
  const decode = async (f: string) =>
    decodeImage(await readFile(f), { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 });
  const perStudy = perView ? 1 : task === 'wrist' ? 2 : 1;
  for (let i = 0; i < positionals.length; i += perStudy) {
    const files = positionals.slice(i, i + perStudy);
    try {
      const images = await Promise.all(files.map(decode));
      if (perView) await print.perView(files[0]!, images[0]!);
      else if (task === 'wrist' && readsPerView(print.manifest)) await print.wristStudy(files, images);
      else await print.study(files, images);
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

import { GateVerdict } from './gate-verdict';
import { DecodedImage, displayRange, toModelTensor } from '../imaging';
import type { Tensor, TensorMap } from './engine';
import type { LoadedModel } from './model-loader';
import { readsPerView } from './model-manifest';
import { ActivationMap, interpret, NOT_TARGET_OUTPUT, Reading } from './postprocess';
import { fuseViews, type FusionOptions, type StudyReading } from './study-fusion';

/** Smallest side, in pixels, of an image the models will read. */
const MIN_SIDE = 64;
/** Below this standard deviation of display values ([0,1]) an image is blank or nearly uniform. */
const MIN_DISPLAY_STD = 0.02;

/**
 * Above this chroma (mean |R−G| + |G−B|, 8-bit units) an image is a colour picture, not a radiograph.
 * Every radiograph in the shared sets measures 0 (grey stored as RGB included); colour photos 12–114.
 * The trainer's `data.COLOUR_CHROMA_LIMIT`.
 */
export const COLOUR_CHROMA_LIMIT = 8;

/**
 * Pre-model checks: a colour picture is refused as NOT_A_RADIOGRAPH; blank, uniform or tiny images are
 * refused as LOW_QUALITY.
 */
export function qualityVerdict(img: DecodedImage): GateVerdict | null {
  if ((img.chroma ?? 0) > COLOUR_CHROMA_LIMIT) return GateVerdict.NOT_A_RADIOGRAPH;
  if (img.width < MIN_SIDE || img.height < MIN_SIDE) return GateVerdict.LOW_QUALITY;
  const d = displayRange(img);
  let sum = 0;
  let sq = 0;
  const step = Math.max(1, Math.floor(d.length / 65536));
  let n = 0;
  for (let i = 0; i < d.length; i += step) {
    sum += d[i];
    sq += d[i] * d[i];
    n++;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sq / n - mean * mean)) < MIN_DISPLAY_STD ? GateVerdict.LOW_QUALITY : null;
}

function stack(tensors: Float32Array[], size: number): Tensor {
  const data = new Float32Array(tensors.length * size * size);
  tensors.forEach((t, i) => data.set(t, i * size * size));
  return { data, dims: [tensors.length, 1, size, size] };
}

function row(t: Tensor, i: number): Float32Array {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return t.data.subarray(i * per, (i + 1) * per);
}

function camsOf(t: Tensor | undefined, i: number, classes: string[]): ActivationMap[] {
  if (!t || t.dims.length !== 4) return [];
  const [, k, h, w] = t.dims;
  const item = row(t, i);
  return classes
    .slice(0, k)
    .map((label, c) => ({ label, width: w, height: h, data: item.slice(c * h * w, (c + 1) * h * w) }));
}

/**
 * preprocess → predict → postprocess for one loaded model version. Chest models read one image per
 * study; a wrist pair model (v1) reads a PA and a lateral view together; a per-view wrist model (v2)
 * reads every view on its own and fuses the study ({@link RadiographReader.readStudy}).
 */
export class RadiographReader {
  constructor(readonly model: LoadedModel) {}

  /** Input tensor of one image under the model's preprocessing spec. */
  async tensorOf(img: DecodedImage): Promise<Float32Array> {
    const { input, preprocessing } = this.model.manifest;
    return toModelTensor(img, input.size, preprocessing.id);
  }

  /** Runs prepared input tensors (one per input name, batch-stacked) and interprets every item. */
  async runTensors(inputs: Float32Array[][], gateOverrides: (GateVerdict | null)[] = []): Promise<Reading[]> {
    const { manifest, session } = this.model;
    const size = manifest.input.size;
    const feeds: TensorMap = {};
    manifest.input.names.forEach(
      (name, k) =>
        (feeds[name] = stack(
          inputs.map((views) => views[k]),
          size,
        )),
    );
    const out = await session.run(feeds);
    const cams = manifest.input.names.length === 1 ? ['cam'] : manifest.input.names.map((n) => `cam_${n}`);
    return inputs.map((_, i) =>
      interpret(
        manifest,
        {
          logits: row(out.logits, i),
          embedding: row(out.embedding, i).slice(),
          oodDistance: out.ood_distance.data[i],
          notTargetLogit: out[NOT_TARGET_OUTPUT]?.data[i],
          cams: cams.flatMap((name) => camsOf(out[name], i, manifest.classes)),
        },
        gateOverrides[i] ?? null,
      ),
    );
  }

  /** Reads studies: each is the list of views the model takes (one for chest; PA and lateral for wrist). */
  async read(studies: DecodedImage[][]): Promise<Reading[]> {
    const expected = this.model.manifest.input.names.length;
    for (const views of studies) {
      if (views.length !== expected)
        throw new Error(`model ${this.model.manifest.name} takes ${expected} view(s), got ${views.length}`);
    }
    const overrides = studies.map((views) => views.map(qualityVerdict).find((v) => v !== null) ?? null);
    const tensors = await Promise.all(
      studies.map((views) => Promise.all(views.map((v) => this.tensorOf(v)))),
    );
    return this.runTensors(tensors, overrides);
  }

  /**
   * Reads a study with a per-view model: each view on its own (one batch), then the views fused as the
   * model's `study` section says ({@link fuseViews}).
   */
  async readStudy(
    views: { view: string; image: DecodedImage }[],
    options: FusionOptions,
  ): Promise<StudyReading> {
    if (!readsPerView(this.model.manifest))
      throw new Error(`model ${this.model.manifest.name} reads pairs, not one view at a time`);
    const readings = await this.read(views.map((v) => [v.image]));
    return fuseViews(
      this.model.manifest,
      views.map((v, i) => ({ view: v.view, reading: readings[i]! })),
      options,
    );
  }
}

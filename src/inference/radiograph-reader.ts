import { GateVerdict } from './gate-verdict';
import { DecodedImage, displayRange, toModelTensor } from '../imaging';
import { splitBatch } from './batching/session-executor';
import type { ModelSession, Tensor, TensorMap } from './model-session';
import type { InferenceEngine, InferRequest, InferResult } from './inference-engine';
import type { LoadedModel } from './model-loader';
import { NOT_TARGET_OUTPUT, readsPerView, type ModelManifest } from './model-manifest';
import { ActivationMap, interpret, Reading } from './postprocess';
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
 * refused as LOW_QUALITY. `display`: `displayRange(img)` when the caller already holds it.
 */
export function qualityVerdict(img: DecodedImage, display?: Float32Array): GateVerdict | null {
  if ((img.chroma ?? 0) > COLOUR_CHROMA_LIMIT) return GateVerdict.NOT_A_RADIOGRAPH;
  if (img.width < MIN_SIDE || img.height < MIN_SIDE) return GateVerdict.LOW_QUALITY;
  const d = display ?? displayRange(img);
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

/** How an item was served: time queued, time in the session run, and the size of the batch it ran in. */
export type ServedTimings = InferResult['timings'];

/** One item's outputs with the batch dimension removed, and how it was served. */
export interface ItemOutputs {
  outputs: TensorMap;
  timings: ServedTimings;
}

/**
 * Runs a model over items, each the input tensor of every model input (`[S·S]` values, in the
 * manifest's input order); answers one {@link ItemOutputs} per item, in order. The reader's one port to
 * a model: a loaded session ({@link sessionRunner}) or the batching engine ({@link engineRunner}).
 */
export type ModelRunner = (items: Float32Array[][]) => Promise<ItemOutputs[]>;

/** Input `k` of every item, stacked into one `[N, 1, S, S]` feed. */
function stack(items: Float32Array[][], k: number, size: number): Tensor {
  const data = new Float32Array(items.length * size * size);
  items.forEach((views, i) => data.set(views[k]!, i * size * size));
  return { data, dims: [items.length, 1, size, size] };
}

/**
 * A runner over one loaded session (command-line tools, evaluation, drift profiles): all items stacked
 * into one batch, one `session.run`, the outputs split per item. Nothing queues: `queueMs` is 0 and
 * `inferenceMs` the run's wall time.
 */
export function sessionRunner(session: ModelSession, manifest: ModelManifest): ModelRunner {
  const { names, size } = manifest.input;
  return async (items) => {
    const feeds: TensorMap = {};
    names.forEach((name, k) => (feeds[name] = stack(items, k, size)));
    const t0 = performance.now();
    const out = await session.run(feeds);
    const timings = { queueMs: 0, inferenceMs: performance.now() - t0, batchSize: items.length };
    return splitBatch(out, items.length).map((outputs) => ({ outputs, timings }));
  };
}

/**
 * A runner over the inference engine (the server): each item is one request, batched by the engine with
 * whatever else is in flight for the version, under the request's priority, deadline and signal.
 */
export function engineRunner(
  engine: Pick<InferenceEngine, 'infer'>,
  request: Omit<InferRequest, 'views'>,
): ModelRunner {
  return (items) =>
    Promise.all(
      items.map(async (views) => {
        const { outputs, timings } = await engine.infer({ ...request, views });
        return { outputs, timings };
      }),
    );
}

/** A class-activation map of one view of a study, at the model's feature resolution. */
export interface ViewCam extends ActivationMap {
  /** Index of the view in the study (a pair model's input index; a per-view model's item index). */
  view: number;
}

/** One item read: its reading, every class's CAM of every view it holds, and how it was served. */
export interface ItemReading {
  reading: Reading;
  cams: ViewCam[];
  timings: ServedTimings;
}

/** One view of a study, prepared for the model. */
export interface PreparedView {
  /** The view's name as the study records it (`PA`, `LATERAL`, ...). */
  view: string;
  /** Model input under the manifest's input contract, `S × S`. */
  tensor: Float32Array;
  /** The verdict that refuses the view before the model (file header, quality, a cross-check), or null. */
  refusedBefore: GateVerdict | null;
}

/** A study read by {@link RadiographReader.readPrepared}. */
export interface StudyRead {
  /** The study's answer: fused from its views (per-view models), else the one item's reading. */
  reading: Reading;
  /** Per-view models: the fusion (each view's reading, the missing views, the deciding view); else null. */
  fusion: StudyReading | null;
  /** Per-view models: one per view, in order; a model that reads the views together: one, with every view's CAMs. */
  items: ItemReading[];
  /** The slowest item's queue and inference time, and the first item's batch size. */
  timings: ServedTimings;
  /** Milliseconds from the outputs' arrival to the reading: slicing, gate, calibration, fusion. */
  interpretMs: number;
}

/** The CAMs of one item (outputs `cam`, or `cam_<input>` per input of a pair model), `view` from `firstView`. */
function camsOf(manifest: ModelManifest, outputs: TensorMap, firstView: number): ViewCam[] {
  const names = manifest.input.names.length === 1 ? ['cam'] : manifest.input.names.map((n) => `cam_${n}`);
  return names.flatMap((name, v) => {
    const t = outputs[name];
    if (!t || t.dims.length !== 3) return [];
    const [k, h, w] = t.dims as [number, number, number];
    return manifest.classes.slice(0, k).map((label, c) => ({
      label,
      view: firstView + v,
      width: w,
      height: h,
      data: t.data.slice(c * h * w, (c + 1) * h * w),
    }));
  });
}

/**
 * preprocess → predict → postprocess for one model version, over a {@link ModelRunner}: the one place
 * model outputs are sliced (logits, embedding, OOD distance, body-part logit, CAMs per view) and
 * interpreted. Chest models read one image per study; a wrist pair model (v1) reads a PA and a lateral
 * view together; a per-view wrist model (v2) reads every view on its own and fuses the study.
 */
export class RadiographReader {
  /**
   * @param manifest - interprets the outputs (a site operating point's temperature and thresholds
   *   included); its input contract is the runner's
   * @param runner - runs the model
   */
  constructor(
    readonly manifest: ModelManifest,
    private readonly runner: ModelRunner,
  ) {}

  /** A reader over a loaded model's own session, at its manifest. */
  static ofModel(model: LoadedModel): RadiographReader {
    return new RadiographReader(model.manifest, sessionRunner(model.session, model.manifest));
  }

  /** Input tensor of one image under the model's preprocessing spec. */
  async tensorOf(img: DecodedImage): Promise<Float32Array> {
    const { input, preprocessing } = this.manifest;
    return toModelTensor(img, input.size, preprocessing.id);
  }

  /**
   * Runs prepared items (each one tensor per model input) and interprets every one: the gate first (or
   * its override), then calibration, findings and CAMs.
   */
  async readItems(
    items: Float32Array[][],
    gateOverrides: (GateVerdict | null)[] = [],
  ): Promise<ItemReading[]> {
    const outputs = await this.run(items);
    return outputs.map((o, i) => this.interpretItem(o, gateOverrides[i] ?? null, 0));
  }

  /** Reads studies: each is the list of views the model takes (one for chest; PA and lateral for wrist). */
  async read(studies: DecodedImage[][]): Promise<Reading[]> {
    const expected = this.manifest.input.names.length;
    for (const views of studies) {
      if (views.length !== expected)
        throw new Error(`model ${this.manifest.name} takes ${expected} view(s), got ${views.length}`);
    }
    const overrides = studies.map((views) => views.map((v) => qualityVerdict(v)).find((v) => v !== null) ?? null);
    const tensors = await Promise.all(
      studies.map((views) => Promise.all(views.map((v) => this.tensorOf(v)))),
    );
    return (await this.readItems(tensors, overrides)).map((item) => item.reading);
  }

  /**
   * Reads a study with a per-view model: each view on its own (one batch), then the views fused as the
   * model's `study` section says ({@link fuseViews}).
   */
  async readStudy(
    views: { view: string; image: DecodedImage }[],
    options: FusionOptions,
  ): Promise<StudyReading> {
    if (!readsPerView(this.manifest))
      throw new Error(`model ${this.manifest.name} reads pairs, not one view at a time`);
    const prepared = await Promise.all(
      views.map(async (v) => ({
        view: v.view,
        tensor: await this.tensorOf(v.image),
        refusedBefore: qualityVerdict(v.image),
      })),
    );
    return (await this.readPrepared(prepared, options)).fusion!;
  }

  /**
   * Reads one study from its prepared views. A per-view model reads each view as an item of its own
   * (a view refused before the model is one the study lacks) and fuses the study ({@link fuseViews});
   * a model that reads the views together reads them as one item, refused before the model when any
   * view is (the first such verdict).
   *
   * @throws Error when a model that reads the views together is given another number of views
   */
  async readPrepared(views: PreparedView[], options: FusionOptions): Promise<StudyRead> {
    const m = this.manifest;
    if (!readsPerView(m)) {
      if (views.length !== m.input.names.length)
        throw new Error(`model ${m.name} takes ${m.input.names.length} view(s), got ${views.length}`);
      const [out] = await this.run([views.map((v) => v.tensor)]);
      const t1 = performance.now();
      const refused = views.find((v) => v.refusedBefore !== null)?.refusedBefore ?? null;
      const item = this.interpretItem(out!, refused, 0);
      const interpretMs = performance.now() - t1;
      return { reading: item.reading, fusion: null, items: [item], timings: item.timings, interpretMs };
    }
    const outputs = await this.run(views.map((v) => [v.tensor]));
    const t1 = performance.now();
    const items = outputs.map((o, i) => this.interpretItem(o, views[i]!.refusedBefore, i));
    const fusion = fuseViews(
      m,
      items.map((item, i) => ({ view: views[i]!.view, reading: item.reading })),
      options,
    );
    const timings = {
      queueMs: Math.max(...items.map((item) => item.timings.queueMs)),
      inferenceMs: Math.max(...items.map((item) => item.timings.inferenceMs)),
      batchSize: items[0]!.timings.batchSize,
    };
    return { reading: fusion, fusion, items, timings, interpretMs: performance.now() - t1 };
  }

  private async run(items: Float32Array[][]): Promise<ItemOutputs[]> {
    const outputs = await this.runner(items);
    if (outputs.length !== items.length)
      throw new Error(`model ${this.manifest.name} answered ${outputs.length} items for ${items.length}`);
    return outputs;
  }

  /** One item's outputs sliced and interpreted; its CAMs numbered from view `firstView`. */
  private interpretItem(item: ItemOutputs, gateOverride: GateVerdict | null, firstView: number): ItemReading {
    const { outputs } = item;
    const cams = camsOf(this.manifest, outputs, firstView);
    const reading = interpret(
      this.manifest,
      {
        logits: outputs.logits!.data,
        embedding: outputs.embedding!.data,
        oodDistance: outputs.ood_distance!.data[0]!,
        notTargetLogit: outputs[NOT_TARGET_OUTPUT]?.data[0],
        cams,
      },
      gateOverride,
    );
    return { reading, cams, timings: item.timings };
  }
}

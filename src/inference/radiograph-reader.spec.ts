import { fixtureManifestJson, probeGate, fixturePreprocessing } from '../../test/support/manifest-fixture';
import type { ModelSession, Tensor, TensorMap } from './model-session';
import { GateVerdict } from './gate-verdict';
import type { InferRequest, InferResult } from './inference-engine';
import { modelManifestSchema, NOT_TARGET_OUTPUT, type ModelManifest } from './model-manifest';
import {
  engineRunner,
  RadiographReader,
  sessionRunner,
  type ItemOutputs,
  type ModelRunner,
  type PreparedView,
} from './radiograph-reader';

/** Input side of the fixtures (16 values per tensor). */
const SIZE = 4;
/** CAM grid of the fixtures: 2 rows of 3, so a swapped width and height shows. */
const [H, W] = [2, 3];

/** Outputs and thresholds both fixtures share: P(FRACTURE) flagged from 0.2. */
const common = {
  classes: ['NO_FRACTURE', 'FRACTURE'],
  thresholds: {
    FRACTURE: { value: 0.2, targetRecall: 0.99, method: 'm', nCalibrationPositives: 256, guarantee: 'g' },
  },
};

/** A wrist v2-style model: one input, a body-part probe, views read one at a time and fused by max. */
const perView: ModelManifest = modelManifestSchema.parse(
  fixtureManifestJson({
    ...common,
    name: 'wrist-per-view',
    task: 'wrist',
    version: 'v2',
    input: { names: ['image'], size: SIZE, channels: 1, layout: 'NCHW' },
    preprocessing: fixturePreprocessing('v3'),
    outputs: [
      { name: 'logits', shape: ['N', 2] },
      { name: 'embedding', shape: ['N', 2] },
      { name: 'cam', shape: ['N', 2, H, W] },
      { name: 'ood_distance', shape: ['N'] },
      { name: NOT_TARGET_OUTPUT, shape: ['N'] },
    ],
    gate: probeGate(),
    study: { rule: 'max', requiredViews: ['PA', 'LATERAL'], missingView: {} },
  }),
);

/** A wrist v1-style model: a PA and a lateral input read together, a CAM per input, no body-part probe. */
const pair: ModelManifest = modelManifestSchema.parse(
  fixtureManifestJson({
    ...common,
    name: 'wrist-pair',
    task: 'wrist',
    version: 'v1',
    input: { names: ['pa', 'lateral'], size: SIZE, channels: 1, layout: 'NCHW' },
    preprocessing: fixturePreprocessing('v1'),
    outputs: [
      { name: 'logits', shape: ['N', 2] },
      { name: 'embedding', shape: ['N', 2] },
      { name: 'cam_pa', shape: ['N', 2, H, W] },
      { name: 'cam_lateral', shape: ['N', 2, H, W] },
      { name: 'ood_distance', shape: ['N'] },
    ],
    gate: { ...probeGate(), notTargetLogitThreshold: undefined },
  }),
);

/**
 * A film as the fake model sees it: P(FRACTURE), OOD distance and body-part logit written into its
 * first values, and a tag that marks its CAMs.
 */
function film(p: number, options: { ood?: number; notTarget?: number; tag?: number } = {}): Float32Array {
  const t = new Float32Array(SIZE * SIZE);
  t.set([p, options.ood ?? 1, options.notTarget ?? -5, options.tag ?? 0]);
  return t;
}

/** The CAM of class `c` of a view whose film has tag `tag`, as the fake model draws it: tag·100 + c·10 + pixel. */
const camValues = (tag: number, c: number) => Array.from({ length: H * W }, (_, j) => tag * 100 + c * 10 + j);

/** The unbatched outputs of one item (one film per model input): logits from the highest P(FRACTURE). */
function fakeOutputs(manifest: ModelManifest, views: Float32Array[]): TensorMap {
  const p = Math.max(...views.map((v) => v[0]!));
  const camNames = manifest.input.names.length === 1 ? ['cam'] : manifest.input.names.map((n) => `cam_${n}`);
  const out: TensorMap = {
    logits: { data: new Float32Array([0, Math.log(p / (1 - p))]), dims: [2] },
    embedding: { data: new Float32Array([p, 1 - p]), dims: [2] },
    ood_distance: { data: new Float32Array([Math.max(...views.map((v) => v[1]!))]), dims: [] },
  };
  if (manifest.gate.notTargetLogitThreshold !== undefined)
    out[NOT_TARGET_OUTPUT] = { data: new Float32Array([views[0]![2]!]), dims: [] };
  camNames.forEach((name, k) => {
    const data = [0, 1].flatMap((c) => camValues(views[k]![3]!, c));
    out[name] = { data: new Float32Array(data), dims: [2, H, W] };
  });
  return out;
}

/** A runner over the fake model that records the items of every call; item `i` queued i+1 ms, ran 10·(i+1) ms. */
function fakeRunner(manifest: ModelManifest): { runner: ModelRunner; calls: Float32Array[][][] } {
  const calls: Float32Array[][][] = [];
  const runner: ModelRunner = async (items) => {
    calls.push(items);
    return items.map((views, i): ItemOutputs => ({
      outputs: fakeOutputs(manifest, views),
      timings: { queueMs: i + 1, inferenceMs: 10 * (i + 1), batchSize: items.length },
    }));
  };
  return { runner, calls };
}

const view = (
  name: string,
  tensor: Float32Array,
  refusedBefore: GateVerdict | null = null,
): PreparedView => ({
  view: name,
  tensor,
  refusedBefore,
});

describe('RadiographReader.readPrepared, per-view model', () => {
  it('reads each view as an item of its own and fuses the study by max over its views', async () => {
    const { runner, calls } = fakeRunner(perView);
    const pa = film(0.05, { tag: 1 });
    const lateral = film(0.3, { tag: 2 });
    const read = await new RadiographReader(perView, runner).readPrepared(
      [view('PA', pa), view('LATERAL', lateral)],
      { allowIncomplete: false },
    );
    expect(calls).toEqual([[[pa], [lateral]]]);
    expect(calls[0]![1]![0]).toBe(lateral);
    expect(read.items.map((i) => i.reading.probabilities!.FRACTURE)).toEqual([
      expect.closeTo(0.05, 6),
      expect.closeTo(0.3, 6),
    ]);
    expect(read.reading.gateVerdict).toBe(GateVerdict.ACCEPTED);
    expect(read.reading.probabilities!.FRACTURE).toBeCloseTo(0.3, 6);
    expect(read.reading.findings.map((f) => f.label)).toEqual(['FRACTURE']);
    expect(read.fusion!.decidingView).toBe(1);
    expect(read.fusion!.views.map((v) => v.view)).toEqual(['PA', 'LATERAL']);
    // The slowest item's queue and inference time, the batch the first item ran in.
    expect(read.timings).toEqual({ queueMs: 2, inferenceMs: 20, batchSize: 2 });
    expect(read.interpretMs).toBeGreaterThanOrEqual(0);
  });

  it('slices every class’s CAM of each view, numbered by the view it came from, with its grid size', async () => {
    const { runner } = fakeRunner(perView);
    const read = await new RadiographReader(perView, runner).readPrepared(
      [view('PA', film(0.5, { tag: 1 })), view('LATERAL', film(0.5, { tag: 2 }))],
      { allowIncomplete: false },
    );
    const cams = read.items.map((item) =>
      item.cams.map((c) => ({
        label: c.label,
        view: c.view,
        width: c.width,
        height: c.height,
        data: [...c.data],
      })),
    );
    expect(cams).toEqual([
      [
        { label: 'NO_FRACTURE', view: 0, width: W, height: H, data: camValues(1, 0) },
        { label: 'FRACTURE', view: 0, width: W, height: H, data: camValues(1, 1) },
      ],
      [
        { label: 'NO_FRACTURE', view: 1, width: W, height: H, data: camValues(2, 0) },
        { label: 'FRACTURE', view: 1, width: W, height: H, data: camValues(2, 1) },
      ],
    ]);
  });

  it('treats a view refused before the model as one the study lacks, though the model still reads it', async () => {
    const { runner, calls } = fakeRunner(perView);
    const reader = new RadiographReader(perView, runner);
    // The lateral film would decide the study (0.9) if its refusal were ignored.
    const views = [view('PA', film(0.3)), view('LATERAL', film(0.9), GateVerdict.LOW_QUALITY)];
    const strict = await reader.readPrepared(views, { allowIncomplete: false });
    expect(calls[0]).toHaveLength(2);
    expect(strict.items[1]!.reading.gateVerdict).toBe(GateVerdict.LOW_QUALITY);
    expect(strict.items[1]!.reading.probabilities).toBeNull();
    expect(strict.reading.gateVerdict).toBe(GateVerdict.LOW_QUALITY);
    expect(strict.reading.probabilities).toBeNull();
    expect(strict.fusion!.decidingView).toBeNull();
    const lenient = await reader.readPrepared(views, { allowIncomplete: true });
    expect(lenient.reading.gateVerdict).toBe(GateVerdict.ACCEPTED);
    expect(lenient.reading.probabilities!.FRACTURE).toBeCloseTo(0.3, 6);
    expect(lenient.fusion!.missingViews).toEqual(['LATERAL']);
    expect(lenient.fusion!.decidingView).toBe(0);
  });

  it('applies the model’s own gate to a view nothing refused before it', async () => {
    const { runner } = fakeRunner(perView);
    const read = await new RadiographReader(perView, runner).readPrepared(
      [view('PA', film(0.3, { notTarget: 3 })), view('LATERAL', film(0.3, { ood: 99 }))],
      { allowIncomplete: false },
    );
    expect(read.items.map((i) => i.reading.gateVerdict)).toEqual([
      GateVerdict.WRONG_BODY_PART,
      GateVerdict.NOT_A_RADIOGRAPH,
    ]);
    expect(read.reading.gateVerdict).toBe(GateVerdict.WRONG_BODY_PART);
  });
});

describe('RadiographReader.readPrepared, pair model', () => {
  it('reads the views together as one item, each view’s CAMs under its own view number', async () => {
    const { runner, calls } = fakeRunner(pair);
    const pa = film(0.1, { tag: 1 });
    const lateral = film(0.6, { tag: 2 });
    const read = await new RadiographReader(pair, runner).readPrepared(
      [view('PA', pa), view('LATERAL', lateral)],
      { allowIncomplete: false },
    );
    expect(calls).toEqual([[[pa, lateral]]]);
    expect(read.fusion).toBeNull();
    expect(read.items).toHaveLength(1);
    expect(read.reading).toBe(read.items[0]!.reading);
    expect(read.reading.probabilities!.FRACTURE).toBeCloseTo(0.6, 6);
    expect(read.timings).toEqual({ queueMs: 1, inferenceMs: 10, batchSize: 1 });
    const cams = read.items[0]!.cams.map((c) => [c.label, c.view, [...c.data]]);
    expect(cams).toEqual([
      ['NO_FRACTURE', 0, camValues(1, 0)],
      ['FRACTURE', 0, camValues(1, 1)],
      ['NO_FRACTURE', 1, camValues(2, 0)],
      ['FRACTURE', 1, camValues(2, 1)],
    ]);
  });

  it('refuses the pair with the first verdict that refused one of its views before the model', async () => {
    const { runner } = fakeRunner(pair);
    const read = await new RadiographReader(pair, runner).readPrepared(
      [view('PA', film(0.6)), view('LATERAL', film(0.6), GateVerdict.WRONG_BODY_PART)],
      { allowIncomplete: true },
    );
    expect(read.reading.gateVerdict).toBe(GateVerdict.WRONG_BODY_PART);
    expect(read.reading.probabilities).toBeNull();
    expect(read.reading.heatmaps).toEqual([]);
  });

  it('refuses a study with another number of views than the model has inputs', async () => {
    const { runner, calls } = fakeRunner(pair);
    await expect(
      new RadiographReader(pair, runner).readPrepared([view('PA', film(0.6))], { allowIncomplete: true }),
    ).rejects.toThrow(/takes 2 view\(s\), got 1/);
    expect(calls).toEqual([]);
  });
});

describe('RadiographReader.readItems', () => {
  it('interprets each item under its own gate override', async () => {
    const { runner } = fakeRunner(perView);
    const items = await new RadiographReader(perView, runner).readItems(
      [[film(0.3)], [film(0.3)], [film(0.3, { ood: 99 })]],
      [null, GateVerdict.NOT_A_RADIOGRAPH],
    );
    expect(items.map((i) => i.reading.gateVerdict)).toEqual([
      GateVerdict.ACCEPTED,
      GateVerdict.NOT_A_RADIOGRAPH,
      GateVerdict.NOT_A_RADIOGRAPH,
    ]);
    expect(items[0]!.reading.probabilities!.FRACTURE).toBeCloseTo(0.3, 6);
    // A refused item keeps its raw logits for evaluation, never its probabilities.
    expect(items[1]!.reading.probabilities).toBeNull();
    expect(items[1]!.reading.logits[1]).toBeCloseTo(Math.log(0.3 / 0.7), 5);
  });

  it('fails when the runner answers another number of items than it was given', async () => {
    const runner: ModelRunner = async () => [];
    await expect(new RadiographReader(perView, runner).readItems([[film(0.3)]])).rejects.toThrow(
      /answered 0 items for 1/,
    );
  });
});

describe('sessionRunner', () => {
  it('stacks the items into one [N, 1, S, S] feed per input, runs once, and splits every output per item', async () => {
    const feeds: TensorMap[] = [];
    const session: ModelSession = {
      inputNames: ['pa', 'lateral'],
      outputNames: ['logits', 'ood_distance'],
      provider: 'fake',
      run: async (f) => {
        feeds.push(f);
        // Item i's logits are [i, 10 + i]; its OOD distance is its PA film's first value.
        const n = f.pa!.dims[0]!;
        const logits: Tensor = {
          data: Float32Array.from({ length: 2 * n }, (_, j) => (j % 2) * 10 + (j >> 1)),
          dims: [n, 2],
        };
        const ood: Tensor = {
          data: Float32Array.from({ length: n }, (_, i) => f.pa!.data[i * SIZE * SIZE]!),
          dims: [n],
        };
        return { logits, ood_distance: ood };
      },
      release: async () => {},
    };
    const items = [
      [film(0.1), film(0.2)],
      [film(0.3), film(0.4)],
      [film(0.5), film(0.6)],
    ];
    const answers = await sessionRunner(session, pair)(items);
    expect(feeds).toHaveLength(1);
    expect(feeds[0]!.pa!.dims).toEqual([3, 1, SIZE, SIZE]);
    expect(Array.from(feeds[0]!.lateral!.data.subarray(SIZE * SIZE, SIZE * SIZE + 1))).toEqual([
      expect.closeTo(0.4, 6),
    ]);
    expect(answers.map((a) => [...a.outputs.logits!.data])).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
    ]);
    expect(answers.map((a) => a.outputs.ood_distance!.data[0])).toEqual([
      expect.closeTo(0.1, 6),
      expect.closeTo(0.3, 6),
      expect.closeTo(0.5, 6),
    ]);
    expect(answers.map((a) => [a.timings.queueMs, a.timings.batchSize])).toEqual([
      [0, 3],
      [0, 3],
      [0, 3],
    ]);
  });
});

describe('engineRunner', () => {
  it('sends each item as a request of its own, with the task, version, priority, deadline and signal', async () => {
    const requests: InferRequest[] = [];
    const signal = new AbortController().signal;
    const engine = {
      infer: async (request: InferRequest): Promise<InferResult> => {
        requests.push(request);
        return {
          task: request.task,
          version: request.version!,
          manifest: perView,
          outputs: fakeOutputs(perView, request.views),
          timings: { queueMs: requests.length, inferenceMs: 7, batchSize: 2 },
        };
      },
    };
    const request = { task: 'wrist', version: 'v2', priority: 'STAT' as const, deadline: 1234, signal };
    const a = film(0.1);
    const b = film(0.2);
    const answers = await engineRunner(engine, request)([[a], [b]]);
    expect(requests).toEqual([
      { ...request, views: [a] },
      { ...request, views: [b] },
    ]);
    expect(requests[0]!.signal).toBe(signal);
    expect(answers.map((x) => x.timings)).toEqual([
      { queueMs: 1, inferenceMs: 7, batchSize: 2 },
      { queueMs: 2, inferenceMs: 7, batchSize: 2 },
    ]);
    expect(answers[1]!.outputs.embedding!.data[0]).toBeCloseTo(0.2, 6);
  });
});

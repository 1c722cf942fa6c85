import { GateVerdict } from './gate-verdict';
import { fixtureManifestJson, probeGate, fixturePreprocessing } from '../../test/support/manifest-fixture';
import { modelManifestSchema, NOT_TARGET_OUTPUT, readsPerView, type ModelManifest } from './model-manifest';
import { interpret, type Reading } from './postprocess';
import { fuseViews } from './study-fusion';

/** A wrist v2-style model.json: one input, the tissue crop, a body-part head, a study section. */
function wristJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return fixtureManifestJson({
    name: 'wrist-fake',
    task: 'wrist',
    version: 'v2',
    classes: ['NO_FRACTURE', 'FRACTURE'],
    input: { names: ['image'], size: 4, channels: 1, layout: 'NCHW' },
    preprocessing: fixturePreprocessing('v3'),
    outputs: [
      { name: 'logits', shape: ['N', 2] },
      { name: 'embedding', shape: ['N', 2] },
      { name: 'cam', shape: ['N', 2, 1, 1] },
      { name: 'ood_distance', shape: ['N'] },
      { name: NOT_TARGET_OUTPUT, shape: ['N'] },
    ],
    thresholds: {
      FRACTURE: { value: 0.2, targetRecall: 0.99, method: 'm', nCalibrationPositives: 256, guarantee: 'g' },
    },
    gate: probeGate(),
    study: {
      rule: 'max',
      requiredViews: ['PA', 'LATERAL'],
      missingView: { 'PA only': '8% of fractures are seen on the lateral only' },
    },
    ...overrides,
  });
}

const manifest: ModelManifest = modelManifestSchema.parse(wristJson());

/** One view's reading with P(FRACTURE) = p (logits [0, logit(p)] at temperature 1). */
function view(p: number, notTarget = -5, ood = 1): Reading {
  return interpret(manifest, {
    logits: [0, Math.log(p / (1 - p))],
    embedding: new Float32Array([p, 1 - p]),
    oodDistance: ood,
    notTargetLogit: notTarget,
    cams: [
      { label: 'NO_FRACTURE', width: 1, height: 1, data: new Float32Array([1 - p]) },
      { label: 'FRACTURE', width: 1, height: 1, data: new Float32Array([p]) },
    ],
  });
}

describe('wrist v2 model.json', () => {
  it('accepts the tissue-crop contract with a study section; the model reads per view', () => {
    expect(manifest.preprocessing.id).toBe('gray-tissuecrop-bilinear-histeq-instnorm-v3');
    expect(readsPerView(manifest)).toBe(true);
    expect(readsPerView(modelManifestSchema.parse(wristJson({ study: undefined })))).toBe(false);
  });

  it('refuses a model whose crop constants differ from the server’s', () => {
    const json = wristJson();
    const steps = (json.preprocessing as { steps: { name: string; params: Record<string, unknown> }[] })
      .steps;
    steps[1]!.params.rank = 0.8;
    expect(() => modelManifestSchema.parse(json)).toThrow(/rank = 0.85/);
  });
});

describe('fuseViews (max over views)', () => {
  it('flags the study when one view alone reaches the per-view threshold: a one-view fracture is not diluted', () => {
    const r = fuseViews(
      manifest,
      [
        { view: 'PA', reading: view(0.05) },
        { view: 'LATERAL', reading: view(0.3) },
      ],
      { allowIncomplete: false },
    );
    expect(r.gateVerdict).toBe(GateVerdict.ACCEPTED);
    expect(r.probabilities!.FRACTURE).toBeCloseTo(0.3, 10);
    expect(r.probabilities!.NO_FRACTURE).toBeCloseTo(0.7, 10);
    expect(r.findings.map((f) => f.label)).toEqual(['FRACTURE']);
    expect(r.decidingView).toBe(1);
    expect(r.heatmaps.find((h) => h.label === 'FRACTURE')!.data[0]).toBeCloseTo(0.3, 6);
    expect(r.views.map((v) => v.reading.probabilities!.FRACTURE)).toEqual([
      expect.closeTo(0.05, 10),
      expect.closeTo(0.3, 10),
    ]);
    expect(r.missingViews).toEqual([]);
    expect(r.explanation).toBeNull();
    // the mean of the two views (0.175) would have missed it
    expect((0.05 + 0.3) / 2).toBeLessThan(manifest.thresholds.FRACTURE!.value);
  });

  it('flags nothing when every view is below the threshold', () => {
    const r = fuseViews(
      manifest,
      [
        { view: 'PA', reading: view(0.1) },
        { view: 'LATERAL', reading: view(0.15) },
      ],
      { allowIncomplete: false },
    );
    expect(r.findings).toEqual([]);
    expect(r.label).toBe('NO_FRACTURE');
  });

  it('does not read a study with a missing view unless the department allows it, and then names the view', () => {
    expect(() =>
      fuseViews(manifest, [{ view: 'PA', reading: view(0.5) }], { allowIncomplete: false }),
    ).toThrow(RangeError);
    const r = fuseViews(manifest, [{ view: 'PA', reading: view(0.5) }], { allowIncomplete: true });
    expect(r.gateVerdict).toBe(GateVerdict.ACCEPTED);
    expect(r.missingViews).toEqual(['LATERAL']);
    expect(r.explanation).toMatch(/PA view only: the LATERAL view is missing\. 8% of fractures/);
  });

  it('treats a view the gate refused as missing: the study is refused with its verdict, or read from the rest', () => {
    const views = [
      { view: 'PA', reading: view(0.5) },
      { view: 'LATERAL', reading: view(0.5, 3) }, // body-part head says: another body part
    ];
    expect(views[1]!.reading.gateVerdict).toBe(GateVerdict.WRONG_BODY_PART);
    const strict = fuseViews(manifest, views, { allowIncomplete: false });
    expect(strict.gateVerdict).toBe(GateVerdict.WRONG_BODY_PART);
    expect(strict.probabilities).toBeNull();
    expect(strict.explanation).toMatch(/LATERAL view was refused/);
    const lenient = fuseViews(manifest, views, { allowIncomplete: true });
    expect(lenient.gateVerdict).toBe(GateVerdict.ACCEPTED);
    expect(lenient.explanation).toMatch(/LATERAL view was refused/);
    expect(lenient.decidingView).toBe(0);
  });

  it('refuses a study none of whose views was accepted', () => {
    const r = fuseViews(
      manifest,
      [
        { view: 'PA', reading: view(0.5, -5, 99) },
        { view: 'LATERAL', reading: view(0.5, -5, 99) },
      ],
      { allowIncomplete: true },
    );
    expect(r.gateVerdict).toBe(GateVerdict.NOT_A_RADIOGRAPH);
    expect(r.findings).toEqual([]);
  });
});

import { fixtureManifestJson, probeGate } from '../../test/support/manifest-fixture';
import { modelManifestSchema, NOT_TARGET_OUTPUT, type ModelManifest } from './model-manifest';
import { interpret, modelGateVerdict } from './postprocess';

/** A chest v2-style model.json: histogram equalisation and a body-part probe. */
function v2Json(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return fixtureManifestJson({
    name: 'chest-fake',
    task: 'chest',
    version: 'v2',
    classes: ['NORMAL', 'PNEUMONIA', 'TUBERCULOSIS'],
    input: { names: ['image'], size: 4, channels: 1, layout: 'NCHW' },
    preprocessing: {
      id: 'gray-fill-bilinear-histeq-instnorm-v2',
      steps: ['decodeGrayscale', 'resize', 'equalizeHistogram', 'instanceNormalize', 'toTensor'].map(
        (name) => ({ name, params: {} }),
      ),
    },
    outputs: [
      { name: 'logits', shape: ['N', 3] },
      { name: 'embedding', shape: ['N', 2] },
      { name: 'ood_distance', shape: ['N'] },
      { name: NOT_TARGET_OUTPUT, shape: ['N'] },
    ],
    thresholds: {
      PNEUMONIA: { value: 0.3, targetRecall: 0.98, method: 'm', nCalibrationPositives: 10, guarantee: 'g' },
    },
    gate: probeGate(),
    lineage: {
      parentVersion: 'v1',
      promotionGate: { metric: 'm', parent: 0.6, candidate: 0.7, passed: true },
    },
    ...overrides,
  });
}

const parse = (json: Record<string, unknown>): ModelManifest => modelManifestSchema.parse(json);

describe('model.json v2 contract', () => {
  it('accepts the histogram-equalised input contract with its five steps, lineage and probe', () => {
    const m = parse(v2Json());
    expect(m.preprocessing.id).toBe('gray-fill-bilinear-histeq-instnorm-v2');
    expect(m.lineage?.parentVersion).toBe('v1');
  });

  it('refuses a contract whose steps do not match its id', () => {
    const wrong = v2Json();
    (wrong.preprocessing as { steps: unknown[] }).steps.splice(2, 1);
    expect(() => parse(wrong)).toThrow(/equalizeHistogram/);
    expect(() => parse(v2Json({ preprocessing: { id: 'made-up-v9', steps: [] } }))).toThrow();
  });

  it('refuses a probe threshold without the probe output, and the output without its threshold', () => {
    const noOutput = v2Json();
    noOutput.outputs = (noOutput.outputs as { name: string }[]).filter((o) => o.name !== NOT_TARGET_OUTPUT);
    expect(() => parse(noOutput)).toThrow(/notTargetLogitThreshold/);
    const noThreshold = v2Json();
    delete (noThreshold.gate as Record<string, unknown>).notTargetLogitThreshold;
    expect(() => parse(noThreshold)).toThrow(/notTargetLogitThreshold/);
  });
});

describe('model gate', () => {
  const m = parse(v2Json());

  it('says NOT_A_RADIOGRAPH far from the training films, before asking the body-part probe', () => {
    expect(modelGateVerdict(m, 11, -5)).toBe('NOT_A_RADIOGRAPH');
    expect(modelGateVerdict(m, 11, 5)).toBe('NOT_A_RADIOGRAPH');
    expect(modelGateVerdict(m, Number.NaN, -5)).toBe('NOT_A_RADIOGRAPH');
  });

  it('says WRONG_BODY_PART when the probe says another body part, ACCEPTED otherwise', () => {
    expect(modelGateVerdict(m, 3, 0.5)).toBe('WRONG_BODY_PART');
    expect(modelGateVerdict(m, 3, -0.5)).toBe('ACCEPTED');
    expect(modelGateVerdict(m, 3, Number.NaN)).toBe('WRONG_BODY_PART');
  });

  it('gives a refused film no probabilities or findings', () => {
    const r = interpret(m, {
      logits: [0, 3, 0],
      embedding: new Float32Array(2),
      oodDistance: 3,
      notTargetLogit: 2,
      cams: [],
    });
    expect(r).toMatchObject({
      gateVerdict: 'WRONG_BODY_PART',
      probabilities: null,
      findings: [],
      label: null,
    });
    const ok = interpret(m, {
      logits: [0, 3, 0],
      embedding: new Float32Array(2),
      oodDistance: 3,
      notTargetLogit: -2,
      cams: [],
    });
    expect(ok.findings.map((f) => f.label)).toEqual(['PNEUMONIA']);
  });

  it('reads a model without a probe (v1) by its distance alone', () => {
    const v1 = parse(
      v2Json({
        outputs: (v2Json().outputs as { name: string }[]).filter((o) => o.name !== NOT_TARGET_OUTPUT),
        gate: {
          signal: 'ood_distance',
          method: 'fake',
          oodDistanceThreshold: 10,
          aurocNotRadiograph: null,
          aurocWrongBodyPart: null,
        },
      }),
    );
    expect(modelGateVerdict(v1, 3, undefined)).toBe('ACCEPTED');
    expect(modelGateVerdict(v1, 30, undefined)).toBe('NOT_A_RADIOGRAPH');
  });
});

import { fixtureManifestJson, fixturePreprocessing, probeGate } from '../../test/support/manifest-fixture';
import { modelManifestSchema } from '../inference/model-manifest';
import {
  judgeVariant,
  readWithBothGraphs,
  variantGateThresholds,
  type FilmReadings,
  type GraphReading,
} from './precision-variant';

/** A two-class chest-like manifest with a probe gate, an operating point on ABNORMAL at 0.5 and v2's gate rule. */
const fixture = fixtureManifestJson({
  name: 'chest-fake',
  task: 'chest',
  version: 'v9',
  classes: ['NORMAL', 'ABNORMAL'],
  input: { names: ['image'], size: 4, channels: 1, layout: 'NCHW' },
  preprocessing: fixturePreprocessing('v1'),
  outputs: [
    { name: 'logits', shape: ['N', 2] },
    { name: 'embedding', shape: ['N', 3] },
    { name: 'ood_distance', shape: ['N'] },
    { name: 'not_target_logit', shape: ['N'] },
  ],
  thresholds: {
    ABNORMAL: { value: 0.5, targetRecall: 0.9, method: 'fake', nCalibrationPositives: 10, guarantee: 'none' },
  },
  gate: probeGate(),
});
(fixture.training as { hyperparameters: object }).hyperparameters = { gateQuantile: 0.9, oodMargin: 1.5 };
const manifest = modelManifestSchema.parse(fixture);

const reading = (abnormalLogit: number, d = 1, l = -5): GraphReading => ({
  logits: [0, abnormalLogit],
  oodDistance: d,
  notTargetLogit: l,
});

/** 10 validation films (distances 1..10), 40 test films from two sources, 20 films of other body parts. */
function films(int8: (f: FilmReadings) => GraphReading = (f) => f.fp32): FilmReadings[] {
  const out: Omit<FilmReadings, 'int8'>[] = [];
  for (let i = 1; i <= 10; i++)
    out.push({ set: 'val', label: 'NORMAL', source: 'a', fp32: reading(-2, i, -i) });
  for (let i = 0; i < 40; i++) {
    const abnormal = i % 2 === 0;
    out.push({
      set: 'test',
      label: abnormal ? 'ABNORMAL' : 'NORMAL',
      source: i < 20 ? 'a' : 'b',
      fp32: reading(abnormal ? 1 + (i % 7) * 0.1 : -1 - (i % 5) * 0.1),
    });
  }
  for (let i = 0; i < 20; i++) out.push({ set: 'other', label: '', source: 'other', fp32: reading(0, 2, 3) });
  return out.map((f) => ({ ...f, int8: int8({ ...f, int8: f.fp32 }) }));
}

describe('judgeVariant', () => {
  it('accepts a graph that reads every film as model.onnx does, and takes its gate by the version rule', () => {
    const j = judgeVariant(manifest, films());
    expect(j.failed).toEqual([]);
    expect(j.accepted).toBe(true);
    // the ceil(0.9 * 10) = 9th smallest distance (9) x 1.5, and the 9th smallest probe logit (-2)
    expect(j.gate).toEqual({ oodDistanceThreshold: 13.5, notTargetLogitThreshold: -2 });
    expect(j.counts).toEqual({ val: 10, test: 40, other: 20 });
    expect(j.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'test AUROC ABNORMAL',
        'test recall@ABNORMAL (20 positives)',
        'test/a recall@ABNORMAL (10 positives)',
        'test/b AUROC abnormal',
        'other refused by the gate (20 films)',
      ]),
    );
  });

  it('refuses a graph that loses one positive of a source at the operating point', () => {
    let dropped = false;
    const j = judgeVariant(
      manifest,
      films((f) => {
        if (!dropped && f.set === 'test' && f.source === 'b' && f.label === 'ABNORMAL') {
          dropped = true;
          return reading(-0.5);
        }
        return f.fp32;
      }),
    );
    expect(j.accepted).toBe(false);
    expect(j.failed).toEqual(
      expect.arrayContaining([
        'test recall@ABNORMAL (20 positives)',
        'test/b recall@ABNORMAL (10 positives)',
      ]),
    );
    expect(j.failed).not.toContain('test/a recall@ABNORMAL (10 positives)');
  });

  it('refuses a graph whose gate lets films of another body part through', () => {
    let n = 0;
    const j = judgeVariant(
      manifest,
      films((f) => (f.set === 'other' && n++ < 2 ? reading(0, 2, -9) : f.fp32)),
    );
    expect(j.failed).toEqual(['other refused by the gate (20 films)']);
    expect(j.checks.find((c) => c.name.startsWith('other'))).toMatchObject({ fp32: 1, int8: 0.9 });
  });

  it('needs validation films to take the gate thresholds', () => {
    expect(() => variantGateThresholds(manifest, [])).toThrow(/validation films/);
  });

  it('is defined for single-film chest versions: a wrist version is refused before any graph is opened', async () => {
    const factory = {
      load: () => {
        throw new Error('no graph should be opened');
      },
    };
    await expect(
      readWithBothGraphs({ model: 'models/wrist/v1', graph: 'x.onnx', datasets: '.', factory }),
    ).rejects.toThrow(/single-film chest versions/);
  });
});

import type { EvaluationReport } from './evaluate';
import { decideGate, DEFAULT_GATE_POLICY } from './gate';

const est = (value: number | null) => ({ value, ci95: null, n: 916 });

/** A report carrying the figures the gate reads (the rest of EvaluationReport is not consulted). */
function report(
  model: string,
  auroc: Record<string, number>,
  at: Record<string, { recall: number | null; specificity: number }>,
): EvaluationReport {
  return {
    model,
    n: 916,
    classes: Object.keys(auroc),
    aurocPerClass: Object.fromEntries(Object.entries(auroc).map(([k, v]) => [k, est(v)])),
    atThresholds: Object.fromEntries(
      Object.entries(at).map(([k, v]) => [
        k,
        {
          threshold: 0.1,
          recall: est(v.recall),
          specificity: est(v.specificity),
          ppv: est(null),
          npv: est(null),
          counts: { tp: 0, fn: 0, tn: 0, fp: 0 },
        },
      ]),
    ),
    ece: 0,
    accuracy: 0,
    confusionMatrix: { rows: '', matrix: [] },
    gate: { accepted: 916, refused: {} },
    perSource: {},
  } as EvaluationReport;
}

// Production = the shipped chest v1 on its test split (models/chest/v1/model.json, n = 916).
const CHEST_V1 = report(
  'care-companion-chest@v1',
  { NORMAL: 0.869, PNEUMONIA: 0.9469, TUBERCULOSIS: 0.9821 },
  { PNEUMONIA: { recall: 0.9908, specificity: 0.5759 }, TUBERCULOSIS: { recall: 1.0, specificity: 0.8411 } },
);
const TARGETS = { PNEUMONIA: 0.98, TUBERCULOSIS: 0.98 };

describe('decideGate: recall targets and non-inferiority to production', () => {
  it('passes a candidate that meets recall and stays within tolerance of production', () => {
    const candidate = report(
      'care-companion-chest@rt-1',
      { NORMAL: 0.86, PNEUMONIA: 0.9301, TUBERCULOSIS: 0.9799 },
      {
        PNEUMONIA: { recall: 0.9817, specificity: 0.5402 },
        TUBERCULOSIS: { recall: 0.9861, specificity: 0.8511 },
      },
    );
    const d = decideGate(candidate, TARGETS, CHEST_V1, DEFAULT_GATE_POLICY);
    expect(d.passed).toBe(true);
    expect(d.reasons).toEqual([]);
    expect(d.checks).toHaveLength(6);
    expect(d.checks.find((c) => c.check === 'AUROC_NON_INFERIOR' && c.label === 'PNEUMONIA')).toEqual({
      check: 'AUROC_NON_INFERIOR',
      label: 'PNEUMONIA',
      candidate: 0.9301,
      production: 0.9469,
      required: 0.9269,
      passed: true,
    });
  });

  it('rejects a candidate whose pneumonia recall misses the 0.98 target', () => {
    const candidate = report(
      'care-companion-chest@rt-2',
      { NORMAL: 0.88, PNEUMONIA: 0.9512, TUBERCULOSIS: 0.9843 },
      {
        PNEUMONIA: { recall: 0.9725, specificity: 0.6213 },
        TUBERCULOSIS: { recall: 1.0, specificity: 0.86 },
      },
    );
    const d = decideGate(candidate, TARGETS, CHEST_V1, DEFAULT_GATE_POLICY);
    expect(d.passed).toBe(false);
    expect(d.reasons).toEqual(['RECALL_TARGET PNEUMONIA: 0.9725 < 0.98']);
  });

  it('rejects an AUROC drop beyond the tolerance and a specificity drop beyond its tolerance', () => {
    const candidate = report(
      'care-companion-chest@rt-3',
      { NORMAL: 0.8, PNEUMONIA: 0.9201, TUBERCULOSIS: 0.9821 },
      {
        PNEUMONIA: { recall: 0.9908, specificity: 0.5759 },
        TUBERCULOSIS: { recall: 1.0, specificity: 0.7811 },
      },
    );
    const d = decideGate(candidate, TARGETS, CHEST_V1, DEFAULT_GATE_POLICY);
    expect(d.passed).toBe(false);
    expect(d.reasons).toEqual([
      'AUROC_NON_INFERIOR PNEUMONIA: 0.9201 < 0.9269',
      'SPECIFICITY_NON_INFERIOR TUBERCULOSIS: 0.7811 < 0.7911',
    ]);
  });
});

describe('decideGate: unmeasurable recall, no production model, no recall thresholds', () => {
  it('fails a recall that cannot be measured (no positives in the test split)', () => {
    const candidate = report(
      'care-companion-wrist@rt-4',
      { NO_FRACTURE: 0.6, FRACTURE: 0.6 },
      {
        FRACTURE: { recall: null, specificity: 0.1 },
      },
    );
    const d = decideGate(candidate, { FRACTURE: 0.99 }, null, DEFAULT_GATE_POLICY);
    expect(d.passed).toBe(false);
    expect(d.checks).toEqual([
      {
        check: 'RECALL_TARGET',
        label: 'FRACTURE',
        candidate: null,
        production: null,
        required: 0.99,
        passed: false,
      },
    ]);
  });

  it('without a production model checks recall only (wrist v1 figures: recall 1.0 at target 0.99)', () => {
    const candidate = report(
      'care-companion-wrist@v1',
      { NO_FRACTURE: 0.634, FRACTURE: 0.634 },
      {
        FRACTURE: { recall: 1.0, specificity: 0.08 },
      },
    );
    const d = decideGate(candidate, { FRACTURE: 0.99 }, null, DEFAULT_GATE_POLICY);
    expect(d.passed).toBe(true);
    expect(d.production).toBeNull();
    expect(d.checks.map((c) => c.check)).toEqual(['RECALL_TARGET']);
  });

  it('a candidate without recall thresholds is never registered', () => {
    const d = decideGate(CHEST_V1, {}, CHEST_V1, DEFAULT_GATE_POLICY);
    expect(d.passed).toBe(false);
  });
});

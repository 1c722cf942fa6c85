import { decideGate } from './site-rollout-gate';

const estimate = (value: number | null) => ({ value, ci95: null, n: 100 });
const result = (recall: Record<string, number | null>) => ({
  counts: { NORMAL: 100, PNEUMONIA: 60, TUBERCULOSIS: 5 },
  findings: Object.fromEntries(
    Object.entries(recall).map(([label, r]) => [
      label,
      {
        auroc: estimate(0.9),
        shipped: { threshold: 0.05, recall: estimate(r), specificity: estimate(0.5) },
        site: { threshold: 0.04, recall: estimate(1), specificity: estimate(0.4), source: 'site' as const },
        roc: [],
      },
    ]),
  ),
});

describe('decideGate', () => {
  const approved = {
    PNEUMONIA: { source: 'site' as const, targetRecall: 0.98 },
    TUBERCULOSIS: { source: 'shipped' as const, targetRecall: 0.98 },
  };

  it('passes a candidate whose recall reaches the approved recall on every finding the site validated', () => {
    const d = decideGate(approved, result({ PNEUMONIA: 0.98, TUBERCULOSIS: 0.2 }));
    expect(d.passed).toBe(true);
    // the finding kept at the shipped threshold promised nothing: not compared
    expect(d.findings).toEqual([
      { label: 'PNEUMONIA', approvedRecall: 0.98, candidateRecall: 0.98, positives: 60, passed: true },
    ]);
  });

  it('fails a candidate below the approved recall', () => {
    const d = decideGate(approved, result({ PNEUMONIA: 0.95, TUBERCULOSIS: 1 }));
    expect(d.passed).toBe(false);
    expect(d.findings[0]).toMatchObject({ label: 'PNEUMONIA', candidateRecall: 0.95, passed: false });
  });

  it('fails a candidate whose recall cannot be measured (no positives read)', () => {
    expect(decideGate(approved, result({ PNEUMONIA: null })).passed).toBe(false);
  });
});

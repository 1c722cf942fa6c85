import type { EvaluationReport } from './evaluate';

/** How strict the evaluation gate is. */
export interface GatePolicy {
  /**
   * Required test recall per finding class = the candidate's own `targetRecall` (model.json; 0.99
   * fracture, 0.98 pneumonia / tuberculosis, as the design asks) minus this margin (default 0).
   */
  recallMargin: number;
  /** Largest allowed drop of per-class AUROC against the production model (absolute). */
  aurocTolerance: number;
  /** Largest allowed drop of per-class specificity at the operating point against production. */
  specificityTolerance: number;
}

/** Default gate: recall at target, AUROC may drop by 0.02 at most, specificity by 0.05 at most. */
export const DEFAULT_GATE_POLICY: GatePolicy = {
  recallMargin: 0,
  aurocTolerance: 0.02,
  specificityTolerance: 0.05,
};

/** One comparison the gate made. */
export interface GateCheck {
  check: 'RECALL_TARGET' | 'AUROC_NON_INFERIOR' | 'SPECIFICITY_NON_INFERIOR';
  label: string;
  candidate: number | null;
  production: number | null;
  required: number | null;
  passed: boolean;
}

/** The verdict stored on the training run, whatever it says. */
export interface GateDecision {
  passed: boolean;
  checks: GateCheck[];
  policy: GatePolicy;
  candidate: string;
  production: string | null;
  testItems: number;
  reasons: string[];
}

const r4 = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);

/**
 * Decides whether a candidate may be registered. Both models were evaluated by the same code on the
 * same held-out test split. For every finding class (a class with a recall threshold):
 * - recall at the candidate's threshold >= its target recall - margin (an undefined recall fails);
 * - when a production model exists: AUROC >= production AUROC - aurocTolerance and specificity at
 *   the operating point >= production specificity - specificityTolerance.
 * Without a production model only the recall checks apply.
 */
export function decideGate(
  candidate: EvaluationReport,
  targets: Record<string, number>,
  production: EvaluationReport | null,
  policy: GatePolicy,
): GateDecision {
  const checks: GateCheck[] = [];
  const labels = Object.keys(targets).sort();
  for (const label of labels) {
    const recall = candidate.atThresholds[label]?.recall.value ?? null;
    const required = targets[label]! - policy.recallMargin;
    checks.push({
      check: 'RECALL_TARGET',
      label,
      candidate: r4(recall),
      production: r4(production?.atThresholds[label]?.recall.value ?? null),
      required: r4(required),
      passed: recall !== null && recall >= required - 1e-12,
    });
    if (!production) continue;
    const auc = candidate.aurocPerClass[label]?.value ?? null;
    const prodAuc = production.aurocPerClass[label]?.value ?? null;
    checks.push({
      check: 'AUROC_NON_INFERIOR',
      label,
      candidate: r4(auc),
      production: r4(prodAuc),
      required: prodAuc === null ? null : r4(prodAuc - policy.aurocTolerance),
      passed: prodAuc === null || (auc !== null && auc >= prodAuc - policy.aurocTolerance - 1e-12),
    });
    const spec = candidate.atThresholds[label]?.specificity.value ?? null;
    const prodSpec = production.atThresholds[label]?.specificity.value ?? null;
    checks.push({
      check: 'SPECIFICITY_NON_INFERIOR',
      label,
      candidate: r4(spec),
      production: r4(prodSpec),
      required: prodSpec === null ? null : r4(prodSpec - policy.specificityTolerance),
      passed: prodSpec === null || (spec !== null && spec >= prodSpec - policy.specificityTolerance - 1e-12),
    });
  }
  const failed = checks.filter((c) => !c.passed);
  return {
    passed: labels.length > 0 && failed.length === 0,
    checks,
    policy,
    candidate: candidate.model,
    production: production?.model ?? null,
    testItems: candidate.n,
    reasons: labels.length
      ? failed.map((c) => `${c.check} ${c.label}: ${c.candidate ?? 'n/a'} < ${c.required ?? 'n/a'}`)
      : ['the candidate has no recall thresholds'],
  };
}

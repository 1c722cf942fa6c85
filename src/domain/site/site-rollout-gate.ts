import type { SiteEvaluation as SiteEvaluationResult, SiteThreshold } from '../../training/site-calibration';
import type { GateFinding } from './site-rollout-gate.entity';

/**
 * The per-site rollout gate's rule: a version promoted to PRODUCTION serves a site only if, on the
 * site's validation set, its recall at the operating point it would serve with there (its shipped one:
 * no site operating point is approved for it yet) reaches the recall the site approved, for every
 * finding the site validated (threshold chosen on the site's positives). Findings the site kept at the
 * shipped threshold promised nothing and are not compared. Pure.
 */
export function decideGate(
  approved: Record<string, Pick<SiteThreshold, 'source' | 'targetRecall'>>,
  result: Pick<SiteEvaluationResult, 'findings' | 'counts'>,
): { passed: boolean; findings: GateFinding[] } {
  const findings: GateFinding[] = Object.entries(approved)
    .filter(([, t]) => t.source === 'site')
    .map(([label, t]) => {
      const candidateRecall = result.findings[label]?.shipped.recall.value ?? null;
      return {
        label,
        approvedRecall: t.targetRecall,
        candidateRecall,
        positives: result.counts[label] ?? 0,
        passed: candidateRecall !== null && candidateRecall >= t.targetRecall,
      };
    });
  return { passed: findings.every((f) => f.passed), findings };
}

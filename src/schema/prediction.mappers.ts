import { GateVerdict, ImageView, ReadingOutcome } from '../domain/enums';
import type { Prediction } from '../domain/prediction/prediction.entity';
import { PredictionType } from './prediction.types';

/** The primary answer of a reading: flagged when any finding reached its operating point. */
export function outcomeOf(p: Pick<Prediction, 'gateVerdict' | 'findings'>): ReadingOutcome {
  if (p.gateVerdict !== GateVerdict.ACCEPTED) return ReadingOutcome.NOT_READ;
  return p.findings.length > 0 ? ReadingOutcome.FLAGGED_FOR_REVIEW : ReadingOutcome.NOTHING_FLAGGED;
}

/** Every finding with its operating point (readings made before thresholds were recorded: the flagged ones). */
function assessmentsOf(p: Prediction) {
  if (p.gateVerdict !== GateVerdict.ACCEPTED) return [];
  const flagged = new Map(p.findings.map((f) => [f.label, f]));
  const thresholds = Object.keys(p.thresholds ?? {}).length
    ? p.thresholds
    : Object.fromEntries(p.findings.map((f) => [f.label, f.threshold]));
  return Object.entries(thresholds).map(([label, threshold]) => ({
    label,
    probability: p.probabilities[label] ?? flagged.get(label)?.probability ?? 0,
    threshold,
    flagged: flagged.has(label),
  }));
}

export const toPrediction = (p: Prediction): PredictionType =>
  Object.assign(new PredictionType(), {
    id: p.id,
    studyId: p.study.id,
    modelVersionId: p.modelVersion?.id ?? null,
    graphPrecision: p.graphPrecision,
    gateVerdict: p.gateVerdict,
    outcome: outcomeOf(p),
    flagged: outcomeOf(p) === ReadingOutcome.FLAGGED_FOR_REVIEW,
    assessments: assessmentsOf(p),
    inputs: (p.inputs ?? []).map((i, k) => ({
      imageId: i.imageId,
      sha256: i.sha256,
      view: i.view as ImageView,
      gateVerdict: i.gateVerdict ?? null,
      probability: i.probability ?? null,
      flagged: i.flagged ?? null,
      heatmapUrl: i.heatmapKey || i.cam ? `/predictions/${p.id}/heatmap?view=${k}` : null,
    })),
    rereadOfId: p.rereadOf?.id ?? null,
    label: p.label ?? null,
    probabilities: Object.entries(p.probabilities).map(([label, probability]) => ({ label, probability })),
    findings: p.findings,
    heatmapUrl: p.heatmapKey || p.cam ? `/predictions/${p.id}/heatmap` : null,
    siteValidated: p.siteValidated ?? false,
    siteOperatingPointId: p.siteOperatingPoint?.id ?? null,
    timings: p.timings,
    route: p.route,
    warning: p.warning,
    explanation: p.explanation ?? null,
    createdAt: p.createdAt,
  });

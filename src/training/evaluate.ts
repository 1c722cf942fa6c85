import type { Reading } from '../inference/postprocess';
import type { ModelManifest } from '../inference/model-manifest';
import {
  auroc,
  bootstrap,
  confusionMatrix,
  countsAt,
  Estimate,
  expectedCalibrationError,
  pick,
  rates,
} from './classification-metrics';

/** One evaluated item: truth, source and the model's reading. */
export interface EvaluatedItem {
  path: string;
  label: string;
  source: string;
  reading: Reading;
}

/** The evaluation report written by `npm run evaluate` (JSON). */
export interface EvaluationReport {
  model: string;
  n: number;
  classes: string[];
  aurocPerClass: Record<string, Estimate>;
  atThresholds: Record<
    string,
    {
      threshold: number;
      recall: Estimate;
      specificity: Estimate;
      ppv: Estimate;
      npv: Estimate;
      counts: ReturnType<typeof countsAt>;
    }
  >;
  ece: number;
  accuracy: number;
  confusionMatrix: { rows: string; matrix: number[][] };
  gate: { accepted: number; refused: Record<string, number> };
  perSource: Record<
    string,
    {
      n: number;
      aurocPerClass: Record<string, number | null>;
      atThresholds: Record<string, { recall: number | null; specificity: number | null }>;
    }
  >;
}

/**
 * Metrics of a model on labelled items, on every item whatever the gate said (the gate's refusals are
 * reported beside): one-vs-rest AUROC per class, recall / specificity / PPV / NPV at the shipped
 * thresholds, ECE, confusion matrix, per-source breakdown, percentile-bootstrap 95% CIs.
 */
export function evaluate(
  manifest: ModelManifest,
  items: EvaluatedItem[],
  resamples = 1000,
): EvaluationReport {
  const classes = manifest.classes;
  const probs = items.map((i) => i.reading.evaluationProbabilities);
  const labels = items.map((i) => classes.indexOf(i.label));
  const n = items.length;
  const aurocPerClass: EvaluationReport['aurocPerClass'] = {};
  const atThresholds: EvaluationReport['atThresholds'] = {};
  classes.forEach((c, k) => {
    const scores = probs.map((p) => p[k]);
    const pos = labels.map((l) => l === k);
    aurocPerClass[c] = bootstrap(n, (idx) => auroc(pick(scores, idx), pick(pos, idx)), resamples, 11 + k);
    const t = manifest.thresholds[c];
    if (t) {
      const at = (idx: number[] | null) => rates(countsAt(pick(scores, idx), pick(pos, idx), t.value));
      atThresholds[c] = {
        threshold: t.value,
        recall: bootstrap(n, (idx) => at(idx).recall, resamples, 101 + k),
        specificity: bootstrap(n, (idx) => at(idx).specificity, resamples, 201 + k),
        ppv: bootstrap(n, (idx) => at(idx).ppv, resamples, 301 + k),
        npv: bootstrap(n, (idx) => at(idx).npv, resamples, 401 + k),
        counts: countsAt(scores, pos, t.value),
      };
    }
  });
  const matrix = confusionMatrix(probs, labels, classes.length);
  const correct = matrix.reduce((s, r, i) => s + r[i], 0);
  const refused: Record<string, number> = {};
  let accepted = 0;
  for (const i of items) {
    if (i.reading.gateVerdict === 'ACCEPTED') accepted++;
    else refused[i.reading.gateVerdict] = (refused[i.reading.gateVerdict] ?? 0) + 1;
  }
  const perSource: EvaluationReport['perSource'] = {};
  for (const source of [...new Set(items.map((i) => i.source))].sort()) {
    const idx = items.map((it, i) => (it.source === source ? i : -1)).filter((i) => i >= 0);
    const entry: EvaluationReport['perSource'][string] = {
      n: idx.length,
      aurocPerClass: {},
      atThresholds: {},
    };
    classes.forEach((c, k) => {
      const scores = idx.map((i) => probs[i][k]);
      const pos = idx.map((i) => labels[i] === k);
      entry.aurocPerClass[c] = auroc(scores, pos);
      const t = manifest.thresholds[c];
      if (t) {
        const r = rates(countsAt(scores, pos, t.value));
        entry.atThresholds[c] = { recall: r.recall, specificity: r.specificity };
      }
    });
    perSource[source] = entry;
  }
  return {
    model: `${manifest.name}@${manifest.version}`,
    n,
    classes,
    aurocPerClass,
    atThresholds,
    ece: expectedCalibrationError(probs, labels),
    accuracy: n ? correct / n : 0,
    confusionMatrix: { rows: 'truth; columns: arg-max prediction', matrix },
    gate: { accepted, refused },
    perSource,
  };
}

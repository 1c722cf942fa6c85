/**
 * Classification metrics: AUROC, sensitivity/specificity/PPV/NPV at a threshold, calibration error,
 * confusion matrix and bootstrap confidence intervals. Pure functions over scores and labels, used by
 * `npm run evaluate`, the retraining gate and site calibration; each has a unit test against
 * hand-computed values. (The Prometheus registry is another thing: `monitoring/metrics.ts`.)
 */
import { seededRandom } from '../shared/random';

/** Area under the ROC curve (Mann–Whitney U with average ranks for ties); null when one class is absent. */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number | null {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = rank;
    i = j + 1;
  }
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (positive[i]) {
      nPos++;
      rankSum += ranks[i];
    }
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Counts of a binary decision against the truth. */
export interface BinaryCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Binary counts when `score >= threshold` flags positive. */
export function countsAt(
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean>,
  threshold: number,
): BinaryCounts {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i] >= threshold;
    if (positive[i] && flagged) c.tp++;
    else if (positive[i]) c.fn++;
    else if (flagged) c.fp++;
    else c.tn++;
  }
  return c;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** Recall (sensitivity), specificity, PPV and NPV from counts; null where the denominator is 0. */
export function rates(c: BinaryCounts): {
  recall: number | null;
  specificity: number | null;
  ppv: number | null;
  npv: number | null;
} {
  return {
    recall: ratio(c.tp, c.tp + c.fn),
    specificity: ratio(c.tn, c.tn + c.fp),
    ppv: ratio(c.tp, c.tp + c.fp),
    npv: ratio(c.tn, c.tn + c.fn),
  };
}

/**
 * Expected calibration error of the top-class confidence over equal-width bins (default 15):
 * Σ (n_b / n) · |accuracy_b − confidence_b|.
 */
export function expectedCalibrationError(probabilities: number[][], labels: number[], bins = 15): number {
  const n = labels.length;
  const acc = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i];
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    const b = Math.min(bins - 1, Math.floor(p[best] * bins));
    count[b]++;
    conf[b] += p[best];
    acc[b] += best === labels[i] ? 1 : 0;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++)
    if (count[b] > 0) ece += (count[b] / n) * Math.abs(acc[b] / count[b] - conf[b] / count[b]);
  return ece;
}

/** Confusion matrix rows = truth, columns = arg-max prediction. */
export function confusionMatrix(probabilities: number[][], labels: number[], classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  probabilities.forEach((p, i) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    m[labels[i]][best]++;
  });
  return m;
}

/** A point estimate with a percentile-bootstrap 95% interval. */
export interface Estimate {
  value: number | null;
  ci95: [number, number] | null;
  n: number;
}

/**
 * Percentile bootstrap: resamples indices with replacement `resamples` times and reports the 2.5th and
 * 97.5th percentiles of `statistic` (resamples where it is undefined are dropped).
 */
export function bootstrap(
  n: number,
  statistic: (indices: number[] | null) => number | null,
  resamples = 1000,
  seed = 7,
): Estimate {
  const value = statistic(null);
  if (value === null || n === 0) return { value, ci95: null, n };
  const rand = seededRandom(seed);
  const values: number[] = [];
  const indices = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(rand() * n);
    const v = statistic(indices);
    if (v !== null && Number.isFinite(v)) values.push(v);
  }
  if (resamples <= 0 || values.length < resamples / 2) return { value, ci95: null, n };
  values.sort((a, b) => a - b);
  const at = (q: number) =>
    values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))];
  return { value, ci95: [at(0.025), at(0.975)], n };
}

/** Picks elements by index (or all when `indices` is null). */
export function pick<T>(values: ArrayLike<T>, indices: number[] | null): T[] {
  return indices ? indices.map((i) => values[i]) : Array.from(values);
}

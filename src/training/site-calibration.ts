/**
 * Site validation: how a model version reads one hospital's own labelled films, and the site's operating
 * point chosen on them. Pure functions over readings (no files, no database), used by
 * `calibrate-for-site.ts` (`npm run site:calibrate`) and by the API's site validation job.
 *
 * Operating point: per finding, the conformal order statistic of the site's positives (the
 * ⌊α(n+1)⌋-th smallest calibrated probability among n positives, α = 1 − target recall). For a new film
 * exchangeable with the site's positives, P(flagged) ≥ target: E[recall] ≥ target. The order statistic
 * exists only when n ≥ 1/α − 1 (49 positives at 98%); with fewer, the shipped threshold stays and the
 * report says how many more positives are needed.
 */
import { calibratedSoftmax } from '../inference/postprocess';
import {
  auroc,
  bootstrap,
  countsAt,
  Estimate,
  expectedCalibrationError,
  pick,
  rates,
} from './classification-metrics';
import { seededRandom } from '../shared/random';

/** One labelled local film and the model's reading of it. */
export interface SiteItem {
  /** The row's identity for messages: a path or a study id. */
  ref: string;
  label: string;
  /** Patient (grouping unit); the ref when the site gave none. */
  group: string;
  /** Raw logits (before temperature), even when the gate refused the film. */
  logits: number[];
  gateVerdict: string;
}

/** What a site operating point replaces in model.json. */
export interface SiteOperatingPoint {
  temperature: number;
  thresholds: Record<string, SiteThreshold>;
}

/** One finding's site threshold and the evidence it rests on. */
export interface SiteThreshold {
  value: number;
  /** `site` when chosen on the site's positives; `shipped` when they were too few. */
  source: 'site' | 'shipped';
  targetRecall: number;
  nPositives: number;
  orderStatisticK: number | null;
  guarantee: string;
  /** How many more positives the guarantee needs (0 when it holds). */
  positivesNeeded: number;
}

/** The evaluation of a model on a site's films. */
export interface SiteEvaluation {
  n: number;
  counts: Record<string, number>;
  patients: number;
  gateRefused: { n: number; rate: number; byVerdict: Record<string, number> };
  temperature: {
    shipped: number;
    site: number;
    used: number;
    eceShipped: number;
    eceSite: number;
    rule: string;
  };
  ece: number;
  reliability: { bin: number; confidence: number; accuracy: number; n: number }[];
  findings: Record<
    string,
    {
      auroc: Estimate;
      shipped: { threshold: number; recall: Estimate; specificity: Estimate };
      site: { threshold: number; recall: Estimate; specificity: Estimate; source: 'site' | 'shipped' };
      roc: { fpr: number; tpr: number; threshold: number }[];
    }
  >;
}

/** A labels CSV row the site tool cannot use; `row` is 1-based counting the header as row 1. */
export class SiteLabelsError extends Error {
  constructor(
    readonly row: number | null,
    message: string,
  ) {
    super(row === null ? message : `row ${row}: ${message}`);
    this.name = 'SiteLabelsError';
  }
}

/** One checked row of a site labels CSV. */
export interface SiteLabelRow {
  row: number;
  path: string;
  label: string;
  group: string;
}

/**
 * Checks a site's labels before anything is read: known labels, no duplicate paths, one label per
 * patient, both a negative class and at least one finding present. Throws {@link SiteLabelsError}
 * naming the first offending row.
 */
export function checkSiteLabels(records: Record<string, string>[], classes: string[]): SiteLabelRow[] {
  if (!records.length) throw new SiteLabelsError(null, 'the labels file has no rows');
  const cols = Object.keys(records[0]!);
  for (const c of ['path', 'label'])
    if (!cols.includes(c))
      throw new SiteLabelsError(1, `missing column "${c}" (expected path,label[,patient_id])`);
  const seen = new Map<string, number>();
  const patientLabel = new Map<string, { label: string; row: number }>();
  const out: SiteLabelRow[] = [];
  records.forEach((r, i) => {
    const row = i + 2;
    const path = (r.path ?? '').trim();
    const label = (r.label ?? '').trim().toUpperCase();
    if (!path) throw new SiteLabelsError(row, 'empty path');
    if (!classes.includes(label))
      throw new SiteLabelsError(row, `unknown label "${r.label}" (this model reads ${classes.join(', ')})`);
    if (seen.has(path)) throw new SiteLabelsError(row, `duplicate of row ${seen.get(path)} (${path})`);
    seen.set(path, row);
    const group = (r.patient_id ?? '').trim() || `file:${path}`;
    const before = patientLabel.get(group);
    if (before && before.label !== label)
      throw new SiteLabelsError(
        row,
        `patient ${group} is ${label} here but ${before.label} in row ${before.row}; one read per patient`,
      );
    patientLabel.set(group, { label, row });
    out.push({ row, path, label, group });
  });
  const labels = new Set(out.map((r) => r.label));
  if (!labels.has(classes[0]!) || labels.size < 2)
    throw new SiteLabelsError(
      null,
      `one class only (${[...labels].join(', ')}): site validation needs ${classes[0]} films and films with a finding`,
    );
  return out;
}

/** Smallest number of positives for which the conformal order statistic exists at `target`. */
export function positivesForGuarantee(target: number): number {
  return Math.ceil(1 / (1 - target) - 1 - 1e-9);
}

/** The conformal threshold of `scores` (positives' calibrated probabilities) at `target` recall. */
export function conformalThreshold(
  scores: number[],
  target: number,
): { value: number; k: number; n: number } | null {
  const n = scores.length;
  const k = Math.floor((1 - target) * (n + 1) + 1e-9);
  if (k < 1) return null;
  const sorted = [...scores].sort((a, b) => a - b);
  return { value: sorted[k - 1]!, k, n };
}

/** Temperature minimising the negative log-likelihood (grid over log T, then golden section). */
function fitTemperature(logits: number[][], labels: number[]): number {
  const nll = (logT: number) => {
    const t = Math.exp(logT);
    let s = 0;
    logits.forEach((l, i) => (s -= Math.log(Math.max(1e-12, calibratedSoftmax(l, t)[labels[i]!]!))));
    return s / Math.max(1, logits.length);
  };
  let best = 0;
  let bestV = Infinity;
  for (let g = Math.log(0.05); g <= Math.log(20); g += 0.1) {
    const v = nll(g);
    if (v < bestV) [best, bestV] = [g, v];
  }
  let lo = best - 0.1;
  let hi = best + 0.1;
  const gr = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 40; i++) {
    const a = hi - gr * (hi - lo);
    const b = lo + gr * (hi - lo);
    if (nll(a) < nll(b)) hi = b;
    else lo = a;
  }
  return Math.exp((lo + hi) / 2);
}

/** Splits patients in two halves (seeded): temperature is fitted on one and judged on the other. */
function halves(items: SiteItem[], seed: number): [number[], number[]] {
  const groups = [...new Set(items.map((i) => i.group))].sort();
  const rand = seededRandom(seed);
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  const first = new Set(groups.slice(0, Math.ceil(groups.length / 2)));
  const a: number[] = [];
  const b: number[] = [];
  items.forEach((it, i) => (first.has(it.group) ? a : b).push(i));
  return [a, b];
}

function reliability(probs: number[][], labels: number[], bins = 10) {
  const out = Array.from({ length: bins }, (_, b) => ({ bin: b, confidence: 0, accuracy: 0, n: 0 }));
  probs.forEach((p, i) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
    const b = Math.min(bins - 1, Math.floor(p[best]! * bins));
    out[b]!.n++;
    out[b]!.confidence += p[best]!;
    out[b]!.accuracy += best === labels[i] ? 1 : 0;
  });
  return out
    .filter((b) => b.n > 0)
    .map((b) => ({ ...b, confidence: b.confidence / b.n, accuracy: b.accuracy / b.n }));
}

function rocCurve(scores: number[], positive: boolean[], points = 50) {
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  const step = Math.max(1, Math.floor(thresholds.length / points));
  const out: { fpr: number; tpr: number; threshold: number }[] = [];
  for (let i = 0; i < thresholds.length; i += step) {
    const r = rates(countsAt(scores, positive, thresholds[i]!));
    out.push({ fpr: 1 - (r.specificity ?? 1), tpr: r.recall ?? 0, threshold: thresholds[i]! });
  }
  return out;
}

type ShippedPoint = {
  temperature: number;
  thresholds: Record<string, { value: number; targetRecall: number }>;
};

/** The site's temperature: fitted on half the patients, used (refitted on all) only if it lowers ECE on the other half. */
function chooseTemperature(
  items: SiteItem[],
  labels: number[],
  logits: number[][],
  shipped: ShippedPoint,
  seed: number,
) {
  const [fitIdx, checkIdx] = halves(items, seed);
  const eceAt = (t: number, idx: number[]) =>
    expectedCalibrationError(
      idx.map((i) => calibratedSoftmax(logits[i]!, t)),
      idx.map((i) => labels[i]!),
    );
  const tHalf = fitTemperature(
    fitIdx.map((i) => logits[i]!),
    fitIdx.map((i) => labels[i]!),
  );
  const eceShipped = eceAt(shipped.temperature, checkIdx);
  const eceSiteHalf = eceAt(tHalf, checkIdx);
  const useSite = checkIdx.length > 0 && eceSiteHalf < eceShipped;
  const tSite = useSite ? fitTemperature(logits, labels) : shipped.temperature;
  return { tHalf, eceShipped, eceSiteHalf, tSite };
}

/** The conformal threshold of a finding at the site when it has enough positives, else the shipped one. */
function siteThreshold(
  name: string,
  shippedValue: number,
  target: number,
  posScores: number[],
): SiteThreshold {
  const conf = conformalThreshold(posScores, target);
  const need = positivesForGuarantee(target);
  return conf
    ? {
        value: conf.value,
        source: 'site',
        targetRecall: target,
        nPositives: conf.n,
        orderStatisticK: conf.k,
        guarantee: `E[recall] >= ${target} for films exchangeable with this site's ${conf.n} positives (order statistic k=${conf.k} of n=${conf.n})`,
        positivesNeeded: 0,
      }
    : {
        value: shippedValue,
        source: 'shipped',
        targetRecall: target,
        nPositives: posScores.length,
        orderStatisticK: null,
        guarantee: `none at this site: ${posScores.length} ${name} films, the guarantee at ${target} needs ${need}`,
        positivesNeeded: need - posScores.length,
      };
}

/** A finding's AUROC, its recall and specificity at the shipped and the site threshold (bootstrapped), and its ROC. */
function evaluateFinding(
  c: number,
  { labels, logits, scores }: { labels: number[]; logits: number[][]; scores: number[] },
  shipped: { temperature: number; value: number },
  site: SiteThreshold,
  resamples: number,
): SiteEvaluation['findings'][string] {
  const n = labels.length;
  const pos = labels.map((l) => l === c);
  // negatives for a finding's specificity: the films without any finding (the negative class)
  const judged = labels.map((l) => l === c || l === 0);
  const judgedOf = (idx: number[] | null) => (idx ?? labels.map((_, i) => i)).filter((i) => judged[i]);
  const at = (threshold: number, idx: number[] | null) => {
    const keep = judgedOf(idx);
    return rates(countsAt(pick(scores, keep), pick(pos, keep), threshold));
  };
  const shippedScores = logits.map((l) => calibratedSoftmax(l, shipped.temperature)[c]!);
  const atShipped = (idx: number[] | null) => {
    const keep = judgedOf(idx);
    return rates(countsAt(pick(shippedScores, keep), pick(pos, keep), shipped.value));
  };
  const judgedIdx = judgedOf(null);
  return {
    auroc: bootstrap(
      n,
      (idx) => {
        const keep = judgedOf(idx);
        return auroc(pick(scores, keep), pick(pos, keep));
      },
      resamples,
      31,
    ),
    shipped: {
      threshold: shipped.value,
      recall: bootstrap(n, (idx) => atShipped(idx).recall, resamples, 32),
      specificity: bootstrap(n, (idx) => atShipped(idx).specificity, resamples, 33),
    },
    site: {
      threshold: site.value,
      source: site.source,
      recall: bootstrap(n, (idx) => at(site.value, idx).recall, resamples, 34),
      specificity: bootstrap(n, (idx) => at(site.value, idx).specificity, resamples, 35),
    },
    roc: rocCurve(
      judgedIdx.map((i) => scores[i]!),
      judgedIdx.map((i) => pos[i]!),
    ),
  };
}

/** Films the input gate refused, by verdict. */
function gateRefusals(items: SiteItem[]) {
  const refused = items.filter((i) => i.gateVerdict !== 'ACCEPTED');
  const byVerdict: Record<string, number> = {};
  for (const r of refused) byVerdict[r.gateVerdict] = (byVerdict[r.gateVerdict] ?? 0) + 1;
  return { n: refused.length, rate: items.length ? refused.length / items.length : 0, byVerdict };
}

/**
 * Evaluates a model on a site's films and chooses the site operating point.
 *
 * @param classes - the model's classes (index 0 = the negative class)
 * @param shipped - the model's own temperature and thresholds (model.json)
 * @param targetRecall - per finding; defaults to the shipped targets
 */
export function calibrateSite(
  items: SiteItem[],
  classes: string[],
  shipped: ShippedPoint,
  options: { targetRecall?: number; resamples?: number; seed?: number } = {},
): { evaluation: SiteEvaluation; operatingPoint: SiteOperatingPoint } {
  const resamples = options.resamples ?? 1000;
  const labels = items.map((i) => classes.indexOf(i.label));
  const logits = items.map((i) => i.logits);
  const { tHalf, eceShipped, eceSiteHalf, tSite } = chooseTemperature(
    items,
    labels,
    logits,
    shipped,
    options.seed ?? 17,
  );
  const probs = logits.map((l) => calibratedSoftmax(l, tSite));
  const thresholds: Record<string, SiteThreshold> = {};
  const findings: SiteEvaluation['findings'] = {};
  for (const [name, t] of Object.entries(shipped.thresholds)) {
    const c = classes.indexOf(name);
    const scores = probs.map((p) => p[c]!);
    const posScores = scores.filter((_, i) => labels[i] === c);
    thresholds[name] = siteThreshold(name, t.value, options.targetRecall ?? t.targetRecall, posScores);
    findings[name] = evaluateFinding(
      c,
      { labels, logits, scores },
      { temperature: shipped.temperature, value: t.value },
      thresholds[name]!,
      resamples,
    );
  }
  const counts: Record<string, number> = {};
  for (const i of items) counts[i.label] = (counts[i.label] ?? 0) + 1;
  return {
    evaluation: {
      n: items.length,
      counts,
      patients: new Set(items.map((i) => i.group)).size,
      gateRefused: gateRefusals(items),
      temperature: {
        shipped: shipped.temperature,
        site: tHalf,
        used: tSite,
        eceShipped,
        eceSite: eceSiteHalf,
        rule: 'fitted on half the patients; used (refitted on all) only if it lowers ECE on the other half',
      },
      ece: expectedCalibrationError(probs, labels),
      reliability: reliability(probs, labels),
      findings,
    },
    operatingPoint: { temperature: tSite, thresholds },
  };
}

/** The file `site:calibrate` writes and `predict --site` reads. */
export interface SiteFile {
  kind: 'care-companion-site-operating-point';
  task: string;
  model: { name: string; version: string; modelJsonSha256: string };
  createdAt: string;
  labels: { file: string; sha256: string; n: number };
  operatingPoint: SiteOperatingPoint;
  evaluation: SiteEvaluation;
}

/** A site file that does not belong to the model it is applied to, or is not a site file. */
export class SiteFileError extends Error {
  readonly code = 'SITE_FILE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SiteFileError';
  }
}

/**
 * The manifest with the site's temperature and thresholds in place of the shipped ones. Refuses a site
 * file written for another model (name, version or model.json hash differ).
 */
export function applySiteOperatingPoint<
  M extends {
    name: string;
    version: string;
    temperature: number;
    thresholds: Record<string, { value: number }>;
  },
>(manifest: M, modelJsonSha256: string, site: unknown): M {
  const s = site as Partial<SiteFile>;
  if (s?.kind !== 'care-companion-site-operating-point' || !s.operatingPoint || !s.model)
    throw new SiteFileError('not a site operating point file (site:calibrate writes one)');
  if (s.model.name !== manifest.name || s.model.version !== manifest.version)
    throw new SiteFileError(
      `the site file is for ${s.model.name}@${s.model.version}, not ${manifest.name}@${manifest.version}`,
    );
  if (s.model.modelJsonSha256 !== modelJsonSha256)
    throw new SiteFileError('the site file was calibrated on a different model.json of this version');
  return withSiteOperatingPoint(manifest, s.operatingPoint);
}

/**
 * The manifest with a site operating point's temperature and thresholds in place of the shipped ones
 * (each threshold keeps its site evidence under `site`). The caller vouches that the point belongs to
 * this model version: {@link applySiteOperatingPoint} checks a file, the API keys points by version.
 * Refuses a non-positive temperature, an unknown finding or a threshold outside [0, 1].
 */
export function withSiteOperatingPoint<
  M extends {
    temperature: number;
    thresholds: Record<string, { value: number }>;
  },
>(manifest: M, op: SiteOperatingPoint): M {
  if (!(op.temperature > 0)) throw new SiteFileError('the site temperature must be positive');
  const thresholds = { ...manifest.thresholds };
  for (const [name, t] of Object.entries(op.thresholds)) {
    if (!(name in thresholds))
      throw new SiteFileError(`the site file sets a threshold for unknown finding ${name}`);
    if (!(t.value >= 0 && t.value <= 1))
      throw new SiteFileError(`the site threshold of ${name} is not in [0, 1]`);
    thresholds[name] = {
      ...thresholds[name]!,
      value: t.value,
      site: t,
    } as unknown as M['thresholds'][string];
  }
  return { ...manifest, temperature: op.temperature, thresholds };
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { ValidationError } from '../../errors';
import { ModelTask } from '../enums';
import type { RequestContext } from '../shared/request-context';
import { Correction } from './correction.entity';
import { NEGATIVE_CLASS } from './task-classes';

/** What to measure: a period cut into windows of `bucketSeconds`, optionally one task / model version. */
export interface QualityQuery {
  from: Date;
  to: Date;
  /** Window length in seconds (60 s .. 366 days); windows are aligned to the Unix epoch. */
  bucketSeconds: number;
  task?: ModelTask | null;
  modelVersionId?: string | null;
}

/**
 * Live quality of one model version in one time window, measured against radiologists' corrections
 * (the latest correction of each prediction counts once, in the window of that correction).
 *
 * Binary view: truth positive = the corrected label is a finding (anything but NORMAL / NO_FRACTURE);
 * predicted positive = the model flagged any finding (a class at or above its recall threshold).
 * recall = TP / (TP + FN), specificity = TN / (TN + FP), agreement = share of corrections whose label
 * equals the model's arg-max label (exact class). Predictions the input gate refused have no label:
 * they are counted in `refused` and left out of the three rates. A rate with an empty denominator is null.
 */
export interface QualityWindow {
  task: ModelTask;
  modelVersionId: string | null;
  modelVersion: string | null;
  windowStart: Date;
  windowEnd: Date;
  /** Corrections with a model label (the denominator of agreement). */
  n: number;
  refused: number;
  truePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  falsePositives: number;
  agreements: number;
  recall: number | null;
  specificity: number | null;
  agreement: number | null;
}

/** Rolling windows exported as Prometheus gauges. */
const QUALITY_GAUGE_WINDOWS: Readonly<Record<string, number>> = {
  '24h': 24 * 3600,
  '7d': 7 * 24 * 3600,
  '30d': 30 * 24 * 3600,
};

/** Correction quality of one task and model version over one rolling window. */
export interface RollingQuality {
  /** Name of the window in {@link QUALITY_GAUGE_WINDOWS} (`24h`, `7d`, `30d`). */
  window: string;
  task: string;
  /** The model version, or `unknown`. */
  modelVersion: string;
  /** Corrections counted in the window (latest per prediction), refused films included. */
  corrections: number;
  recall: number | null;
  specificity: number | null;
  agreement: number | null;
}

const MAX_BUCKETS = 1000;

/**
 * Recall, specificity and agreement by model version and time window, computed from corrections in
 * one SQL aggregate. Read by the `correctionQuality` query, the drift dashboard and the gauges.
 */
export class QualityService {
  constructor(
    private readonly rootEm: EntityManager,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** `correctionQuality` for the API (READ_MONITORING); validates the period. */
  async query(ctx: RequestContext, q: QualityQuery): Promise<QualityWindow[]> {
    assertPermission(ctx.principal, Permission.READ_MONITORING);
    if (
      !(q.from instanceof Date) ||
      !(q.to instanceof Date) ||
      Number.isNaN(q.from.getTime()) ||
      Number.isNaN(q.to.getTime()) ||
      q.from >= q.to
    )
      throw new ValidationError('from must be before to', { field: 'from' });
    if (!Number.isInteger(q.bucketSeconds) || q.bucketSeconds < 60 || q.bucketSeconds > 366 * 86400)
      throw new ValidationError('bucketSeconds must be an integer between 60 and 31622400', {
        field: 'bucketSeconds',
      });
    if ((q.to.getTime() - q.from.getTime()) / 1000 / q.bucketSeconds > MAX_BUCKETS)
      throw new ValidationError(`at most ${MAX_BUCKETS} windows per query`, {
        field: 'bucketSeconds',
        max: MAX_BUCKETS,
      });
    return this.compute(q);
  }

  /** The computation itself, without authorisation (for services and gauges). */
  async compute(q: QualityQuery): Promise<QualityWindow[]> {
    const em = this.rootEm.fork();
    const rows = await em.getRepository(Correction).countQualityWindows(q, NEGATIVE_CLASS);
    const rate = (a: number, b: number) => (a + b > 0 ? a / (a + b) : null);
    return rows.map((r) => {
      const start = Number(r.bucket) * q.bucketSeconds * 1000;
      const tp = Number(r.tp);
      const fn = Number(r.fn);
      const tn = Number(r.tn);
      const fp = Number(r.fp);
      const n = Number(r.n);
      const agree = Number(r.agree);
      return {
        task: r.task as ModelTask,
        modelVersionId: (r.model_version_id as string | null) ?? null,
        modelVersion: (r.version as string | null) ?? null,
        windowStart: new Date(Math.max(start, q.from.getTime())),
        windowEnd: new Date(Math.min(start + q.bucketSeconds * 1000, q.to.getTime())),
        n,
        refused: Number(r.refused),
        truePositives: tp,
        falseNegatives: fn,
        trueNegatives: tn,
        falsePositives: fp,
        agreements: agree,
        recall: rate(tp, fn),
        specificity: rate(tn, fp),
        agreement: n > 0 ? agree / n : null,
      };
    });
  }

  /**
   * Correction quality over each rolling window of {@link QUALITY_GAUGE_WINDOWS}, per task and model
   * version (`unknown` when the prediction has none): what the Prometheus gauges show
   * (`monitoring/quality-metrics.ts`), read at scrape time. A rate with an empty denominator is null.
   */
  async rollingQuality(): Promise<RollingQuality[]> {
    const out: RollingQuality[] = [];
    const now = this.clock();
    for (const [name, seconds] of Object.entries(QUALITY_GAUGE_WINDOWS)) {
      const from = new Date(now.getTime() - seconds * 1000);
      const windows = await this.compute({
        from,
        to: new Date(now.getTime() + 1),
        bucketSeconds: seconds * 2,
      });
      const merged = new Map<string, QualityWindow[]>();
      for (const w of windows) {
        const k = `${w.task}|${w.modelVersion ?? 'unknown'}`;
        merged.set(k, [...(merged.get(k) ?? []), w]);
      }
      for (const [k, ws] of merged) {
        const [task, version] = k.split('|');
        const sum = (f: (w: QualityWindow) => number) => ws.reduce((s, w) => s + f(w), 0);
        const tp = sum((w) => w.truePositives);
        const fn = sum((w) => w.falseNegatives);
        const tn = sum((w) => w.trueNegatives);
        const fp = sum((w) => w.falsePositives);
        const n = sum((w) => w.n);
        out.push({
          window: name,
          task: task!,
          modelVersion: version!,
          corrections: n + sum((w) => w.refused),
          recall: tp + fn > 0 ? tp / (tp + fn) : null,
          specificity: tn + fp > 0 ? tn / (tn + fp) : null,
          agreement: n > 0 ? sum((w) => w.agreements) / n : null,
        });
      }
    }
    return out;
  }
}

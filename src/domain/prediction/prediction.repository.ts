import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { GateVerdict } from '../enums';
import { compact, type DateRange, rangeCondition } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { Prediction } from './prediction.entity';

/** What a list of predictions may be narrowed by (ids already checked). */
export interface PredictionFilter {
  studyId?: string | null;
  patientId?: string | null;
  modelVersionId?: string | null;
  label?: string | null;
  gateVerdict?: GateVerdict | null;
  createdAt?: DateRange;
}

/** One time bucket of served readings: how many, how many refused, latency percentiles (ms). */
export interface ThroughputRow {
  start: Date | string;
  predictions: number;
  refused: number;
  p50: number | null;
  p95: number | null;
}

/** Bucketed SQL over the prediction table; shadow reads are left out (they double-count studies). */
const THROUGHPUT_SQL = `
select to_timestamp(floor(extract(epoch from created_at) / ?) * ?) as start,
       count(*)::int as predictions,
       (count(*) filter (where gate_verdict <> 'ACCEPTED'))::int as refused,
       percentile_cont(0.5) within group (order by (timings->>'totalMs')::float) as p50,
       percentile_cont(0.95) within group (order by (timings->>'totalMs')::float) as p95
  from prediction
 where created_at > ? and route <> 'SHADOW'
 group by 1 order by 1`;

/** Reads of AI readings. */
export class PredictionRepository extends EntityRepository<Prediction> {
  /** A page of predictions, newest first; a patient filter applies when no study is named. */
  findPage(f: PredictionFilter, page: PageArgs, pageMax: number): Promise<Page<Prediction>> {
    const where = compact({
      study: f.studyId ?? (f.patientId ? { patient: f.patientId } : undefined),
      modelVersion: f.modelVersionId,
      label: f.label,
      gateVerdict: f.gateVerdict,
      createdAt: rangeCondition(f.createdAt),
    }) as FilterQuery<Prediction>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }

  /** One prediction with its study, or null. */
  findWithStudy(id: string): Promise<Prediction | null> {
    return this.findOne({ id }, { populate: ['study'] });
  }

  /** One prediction with its study and the model version that made it, or null. */
  findWithStudyAndModel(id: string): Promise<Prediction | null> {
    return this.findOne({ id }, { populate: ['study', 'modelVersion'] });
  }

  /** The predictions of several studies, newest first (one loader batch). */
  findOfStudies(studyIds: readonly string[]): Promise<Prediction[]> {
    return this.find({ study: { $in: [...studyIds] } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  /** The newest reading of a study that was served (not a SHADOW read), with study and model version; or null. */
  findLatestServed(studyId: string): Promise<Prediction | null> {
    return this.findOne(
      { study: studyId, route: { $ne: 'SHADOW' } },
      { orderBy: { createdAt: 'desc', id: 'desc' }, populate: ['study', 'modelVersion'] },
    );
  }

  /** One prediction with its study, the study's patient and the model version, or null. */
  findForReport(id: string): Promise<Prediction | null> {
    return this.findOne({ id }, { populate: ['study', 'study.patient', 'modelVersion'] });
  }

  /** Served readings bucketed by time since `since` (buckets of `bucketSeconds`): count, refused, latency. */
  throughputSince(since: Date, bucketSeconds: number): Promise<ThroughputRow[]> {
    return this.em.getConnection().execute(THROUGHPUT_SQL, [bucketSeconds, bucketSeconds, since]);
  }

  /** The newest readings (any study), with their model versions. */
  findLatestWithModel(limit: number): Promise<Prediction[]> {
    return this.findAll({ orderBy: { createdAt: 'desc', id: 'desc' }, limit, populate: ['modelVersion'] });
  }

  /** Records the key of a prediction's rendered heatmap overlay. */
  async recordHeatmapKey(predictionId: string, key: string): Promise<void> {
    await this.nativeUpdate({ id: predictionId }, { heatmapKey: key });
  }

  /**
   * Records the heatmap key of one input view of a prediction, in place (`jsonb_set`): another view's
   * render may be recording its own meanwhile.
   */
  async recordViewHeatmapKey(predictionId: string, view: number, key: string): Promise<void> {
    await this.em
      .getConnection()
      .execute(
        `update prediction set inputs = jsonb_set(inputs, ?::text[], to_jsonb(?::text)) where id = ?`,
        [`{${view},heatmapKey}`, key, predictionId],
        'all',
        this.em.getTransactionContext(),
      );
  }
}

import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { ModelTask } from '../enums';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { Correction } from './correction.entity';

/** The latest correction of a prediction as the retraining manifest needs it. */
export interface LatestCorrectionRow {
  id: string;
  label: string;
  predicted_label: string | null;
  version: string | null;
  patient_id: string;
  keys: string[];
}

/** Reads of radiologists' corrections. */
export class CorrectionRepository extends EntityRepository<Correction> {
  /** A page of corrections newest first, of one prediction when named. */
  findPage(f: { predictionId?: string | null }, page: PageArgs, pageMax: number): Promise<Page<Correction>> {
    const where = compact({ prediction: f.predictionId }) as FilterQuery<Correction>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }

  /** The latest correction of each prediction, by prediction id. */
  async findLatestByPredictions(predictionIds: readonly string[]): Promise<Map<string, Correction>> {
    if (predictionIds.length === 0) return new Map();
    const rows = await this.find(
      { prediction: { $in: [...predictionIds] } },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
    const map = new Map<string, Correction>();
    for (const c of rows) if (!map.has(c.prediction.id)) map.set(c.prediction.id, c);
    return map;
  }

  /** The corrections of one prediction, newest first. */
  findOfPrediction(predictionId: string): Promise<Correction[]> {
    return this.find({ prediction: predictionId }, { orderBy: { createdAt: 'desc' } });
  }

  /** How many corrections were made after `since`. */
  countSince(since: Date): Promise<number> {
    return this.count({ createdAt: { $gt: since } });
  }

  /**
   * Corrections counted for live quality: the latest correction of each prediction, in windows of
   * `bucketSeconds` aligned to the Unix epoch, by task and model version (confusion counts, refusals,
   * agreement); `negative` names each task's negative class.
   */
  countQualityWindows(
    f: {
      from: Date;
      to: Date;
      bucketSeconds: number;
      task?: ModelTask | null;
      modelVersionId?: string | null;
    },
    negative: Record<ModelTask, string>,
  ): Promise<Record<string, unknown>[]> {
    return this.em.getConnection().execute(
      `with latest as (
         select distinct on (c.prediction_id) c.task, c.label, c.predicted_label, c.predicted_positive,
                c.model_version_id, c.created_at
           from correction c
          where (?::text is null or c.task = ?::text)
            and (?::uuid is null or c.model_version_id = ?::uuid)
          order by c.prediction_id, c.created_at desc, c.id desc
       ), scored as (
         select l.*, (l.label <> case l.task when 'CHEST' then ? else ? end) as truth_pos,
                floor(extract(epoch from l.created_at) / ?)::bigint as bucket
           from latest l
          where l.created_at >= ? and l.created_at < ?
       )
       select s.task, s.model_version_id, mv.version, s.bucket,
              count(*) filter (where s.predicted_label is not null)::int as n,
              count(*) filter (where s.predicted_label is null)::int as refused,
              count(*) filter (where s.predicted_label is not null and s.truth_pos and s.predicted_positive)::int as tp,
              count(*) filter (where s.predicted_label is not null and s.truth_pos and not s.predicted_positive)::int as fn,
              count(*) filter (where s.predicted_label is not null and not s.truth_pos and not s.predicted_positive)::int as tn,
              count(*) filter (where s.predicted_label is not null and not s.truth_pos and s.predicted_positive)::int as fp,
              count(*) filter (where s.predicted_label = s.label)::int as agree
         from scored s left join model_version mv on mv.id = s.model_version_id
        group by s.task, s.model_version_id, mv.version, s.bucket
        order by s.bucket, s.task, mv.version`,
      [
        f.task ?? null,
        f.task ?? null,
        f.modelVersionId ?? null,
        f.modelVersionId ?? null,
        negative.CHEST,
        negative.WRIST,
        f.bucketSeconds,
        f.from,
        f.to,
      ],
    );
  }

  /** The latest correction of each prediction of a task (up to `until`) with its copies, oldest first. */
  findLatestWithCopies(task: ModelTask, until?: Date): Promise<LatestCorrectionRow[]> {
    return this.em.getConnection().execute(
      `select * from (
         select distinct on (c.prediction_id) c.id, c.label, c.predicted_label, mv.version, s.patient_id,
                c.retraining_object_keys as keys, c.created_at
           from correction c
           join prediction p on p.id = c.prediction_id
           join study s on s.id = p.study_id
           left join model_version mv on mv.id = c.model_version_id
          where c.task = ? and (?::timestamptz is null or c.created_at <= ?::timestamptz)
          order by c.prediction_id, c.created_at desc, c.id desc
       ) latest order by created_at, id`,
      [task, until ?? null, until ?? null],
    );
  }

  /** How many predictions of a task were corrected since its last training run (of any outcome). */
  async countCorrectedSinceLastRun(task: ModelTask): Promise<number> {
    const [row] = await this.em.getConnection().execute<{ n: number }[]>(
      `select count(distinct c.prediction_id)::int as n from correction c
        where c.task = ? and c.created_at > coalesce((select max(created_at) from training_run where task = ?), '-infinity'::timestamptz)`,
      [task, task],
    );
    return row?.n ?? 0;
  }
}

import { EntityRepository } from '@mikro-orm/postgresql';
import { DriftWindowKind } from '../enums';
import type { ModelVersion } from '../model-version/model-version.entity';
import type { DriftSample } from './drift-sample.entity';

/** Reads of drift samples, and their pruning. */
export class DriftSampleRepository extends EntityRepository<DriftSample> {
  /** A version's samples taken after `after` (all when null), oldest first, at most `limit`. */
  findAfter(modelVersion: ModelVersion, after: Date | null, limit: number): Promise<DriftSample[]> {
    return this.find(
      { modelVersion, ...(after ? { createdAt: { $gt: after } } : {}) },
      { orderBy: { createdAt: 'asc', id: 'asc' }, limit },
    );
  }

  /** A version's samples taken in (start, end], oldest first. */
  findInWindow(modelVersion: ModelVersion, start: Date, end: Date): Promise<DriftSample[]> {
    return this.find(
      { modelVersion, createdAt: { $gt: start, $lte: end } },
      { orderBy: { createdAt: 'asc', id: 'asc' } },
    );
  }

  /** The ids of the model versions with samples taken after `since`. */
  async findVersionIdsSampledSince(since: Date): Promise<string[]> {
    const rows: { id: string }[] = await this.em
      .getConnection()
      .execute('select distinct model_version_id as id from drift_sample where created_at > ?', [since]);
    return rows.map((r) => r.id);
  }

  /**
   * True when at least `windowSize` samples of a version were taken after the end of its last count
   * window: one indexed count that stops at `windowSize` rows.
   */
  async countWindowComplete(modelVersionId: string, windowSize: number): Promise<boolean> {
    const [row] = await this.em.getConnection().execute<{ n: number }[]>(
      `select count(*)::int as n from (
         select 1 from drift_sample
         where model_version_id = ?
           and created_at > coalesce(
             (select max(window_end) from drift_check where model_version_id = ? and window_kind = ?),
             '-infinity'::timestamptz)
         limit ?) s`,
      [modelVersionId, modelVersionId, DriftWindowKind.COUNT, windowSize],
      'all',
      this.em.getTransactionContext(),
    );
    return (row?.n ?? 0) >= windowSize;
  }

  /** Deletes the samples taken before `before`; returns how many. */
  deleteTakenBefore(before: Date): Promise<number> {
    return this.nativeDelete({ createdAt: { $lt: before } });
  }
}

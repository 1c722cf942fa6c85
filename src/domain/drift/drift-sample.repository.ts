import { EntityRepository } from '@mikro-orm/postgresql';
import type { ModelVersion } from '../model-version/model-version.entity';
import type { DriftSample } from './drift-sample.entity';

/** Reads of drift samples. */
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
}

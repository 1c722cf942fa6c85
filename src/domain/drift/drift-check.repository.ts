import { EntityRepository } from '@mikro-orm/postgresql';
import type { DriftWindowKind } from '../enums';
import type { ModelVersion } from '../model-version/model-version.entity';
import type { DriftCheck } from './drift-check.entity';

/** What a list of drift checks may be narrowed by. */
export interface DriftCheckFilter {
  modelVersionId?: string | null;
  windowKind?: DriftWindowKind | null;
  since?: Date | null;
  limit: number;
}

/** Reads of drift checks. */
export class DriftCheckRepository extends EntityRepository<DriftCheck> {
  /** The latest check of a version's windows of one kind (latest window end), or null. */
  findLast(modelVersion: ModelVersion, windowKind: DriftWindowKind): Promise<DriftCheck | null> {
    return this.findOne({ modelVersion, windowKind }, { orderBy: { windowEnd: 'desc' } });
  }

  /** The latest `limit` checks, latest window end first. */
  findLatest(f: DriftCheckFilter): Promise<DriftCheck[]> {
    return this.find(
      {
        ...(f.modelVersionId ? { modelVersion: f.modelVersionId } : {}),
        ...(f.windowKind ? { windowKind: f.windowKind } : {}),
        ...(f.since ? { windowEnd: { $gte: f.since } } : {}),
      },
      { orderBy: { windowEnd: 'desc', id: 'desc' }, limit: f.limit },
    );
  }
}

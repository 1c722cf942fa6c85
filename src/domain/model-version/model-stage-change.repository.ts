import { EntityRepository } from '@mikro-orm/postgresql';
import type { ModelVersion } from './model-version.entity';
import type { ModelStageChange } from './model-stage-change.entity';

/** Reads of the registry's stage changes. */
export class ModelStageChangeRepository extends EntityRepository<ModelStageChange> {
  /** The stage changes of one version with their actors, oldest first. */
  findOfVersion(modelVersion: ModelVersion): Promise<ModelStageChange[]> {
    return this.find({ modelVersion }, { populate: ['actor'], orderBy: { createdAt: 'asc', id: 'asc' } });
  }
}

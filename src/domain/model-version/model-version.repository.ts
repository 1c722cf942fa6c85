import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { ModelStage, ModelTask } from '../enums';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { ModelVersion } from './model-version.entity';

/** Reads of the model registry. */
export class ModelVersionRepository extends EntityRepository<ModelVersion> {
  /** A page of versions newest first, narrowed by task and stage. */
  findPage(
    f: { task?: ModelTask | null; stage?: ModelStage | null },
    page: PageArgs,
    pageMax: number,
  ): Promise<Page<ModelVersion>> {
    const where = compact({ task: f.task, stage: f.stage }) as FilterQuery<ModelVersion>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }
}

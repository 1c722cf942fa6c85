import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { ModelStage, type ModelTask } from '../enums';
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

  /** The versions that serve: PRODUCTION and CANARY of every task. */
  findServing(): Promise<ModelVersion[]> {
    return this.find({ stage: { $in: [ModelStage.PRODUCTION, ModelStage.CANARY] } });
  }

  /** One version of a task by its version name, or null. */
  findByName(task: ModelTask, version: string): Promise<ModelVersion | null> {
    return this.findOne({ task, version });
  }

  /** The first version of a task at a stage, or null. */
  findAtStage(task: ModelTask, stage: ModelStage): Promise<ModelVersion | null> {
    return this.findOne({ task, stage });
  }

  /** Every version of a task at a stage. */
  findAllAtStage(task: ModelTask, stage: ModelStage): Promise<ModelVersion[]> {
    return this.find({ task, stage });
  }

  /** Every version of a task. */
  findOfTask(task: ModelTask): Promise<ModelVersion[]> {
    return this.find({ task });
  }

  /** One version with its training run and who promoted it, or null. */
  findWithLineage(id: string): Promise<ModelVersion | null> {
    return this.findOne({ id }, { populate: ['trainingRun', 'promotedBy'] });
  }

  /** The whole registry by task and version. */
  findAllByTaskAndVersion(): Promise<ModelVersion[]> {
    return this.findAll({ orderBy: { task: 'asc', version: 'asc' } });
  }
}

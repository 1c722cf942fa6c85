import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { ModelTask, TrainingRunStatus } from '../enums';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { TrainingRun } from './training-run.entity';

/** Reads of training runs. */
export class TrainingRunRepository extends EntityRepository<TrainingRun> {
  /** A page of runs newest first, of one task when named. */
  findPage(f: { task?: ModelTask | null }, page: PageArgs, pageMax: number): Promise<Page<TrainingRun>> {
    const where = compact({ task: f.task }) as FilterQuery<TrainingRun>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }

  /** How many runs of a task are in one of these statuses. */
  countInStatuses(task: ModelTask, statuses: TrainingRunStatus[]): Promise<number> {
    return this.count({ task, status: { $in: statuses } });
  }
}

import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { type ModelTask, TrainingRunStatus } from '../enums';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { TrainingRun } from './training-run.entity';

/** Reads of training runs, and the updates made outside a run's unit of work (heartbeat, failure). */
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

  /** Records when a run's worker was last alive (null: none, so a retry need not wait for it). */
  async setHeartbeat(id: string, at: Date | null): Promise<void> {
    await this.nativeUpdate({ id }, { heartbeatAt: at });
  }

  /** Marks a run FAILED because its job could not be queued. */
  async markNotQueued(id: string): Promise<void> {
    await this.nativeUpdate(
      { id },
      { status: TrainingRunStatus.FAILED, error: 'could not be queued', finishedAt: new Date() },
    );
  }

  /** Marks a run FAILED with `error` if it is still in one of `statuses` (a finished run keeps its outcome). */
  async failIfIn(id: string, statuses: TrainingRunStatus[], error: string): Promise<void> {
    await this.nativeUpdate(
      { id, status: { $in: statuses } },
      { status: TrainingRunStatus.FAILED, phase: null, error, finishedAt: new Date() },
    );
  }
}

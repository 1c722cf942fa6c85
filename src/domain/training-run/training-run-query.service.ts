import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import type { ModelTask } from '../enums';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { TrainingRun } from './training-run.entity';

/** Lists of training runs (they are started and run by `RetrainingService`). */
export class TrainingRunQueryService {
  constructor(private readonly pageMax: number) {}

  /** Training runs. */
  async trainingRuns(
    ctx: RequestContext,
    f: { task?: ModelTask | null },
    page: PageArgs,
  ): Promise<Page<TrainingRun>> {
    assertPermission(ctx.principal, Permission.READ_MODELS);
    return ctx.em.getRepository(TrainingRun).findPage(f, page, this.pageMax);
  }
}

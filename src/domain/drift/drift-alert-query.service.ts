import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import type { DriftAlertStatus } from '../enums';
import type { DateRange } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { DriftAlert } from './drift-alert.entity';

/** Lists of drift alerts (they are raised by `DriftService`). */
export class DriftAlertQueryService {
  constructor(private readonly pageMax: number) {}

  /** Drift alerts. */
  async driftAlerts(
    ctx: RequestContext,
    f: { createdAt?: DateRange; status?: DriftAlertStatus | null },
    page: PageArgs,
  ): Promise<Page<DriftAlert>> {
    assertPermission(ctx.principal, Permission.READ_MONITORING);
    return ctx.em.getRepository(DriftAlert).findPage(f, page, this.pageMax);
  }
}

import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { DriftAlertStatus } from '../enums';
import { compact, type DateRange, rangeCondition } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { DriftAlert } from './drift-alert.entity';

/** Reads of drift alerts. */
export class DriftAlertRepository extends EntityRepository<DriftAlert> {
  /** A page of alerts newest first, narrowed by time and status. */
  findPage(
    f: { createdAt?: DateRange; status?: DriftAlertStatus | null },
    page: PageArgs,
    pageMax: number,
  ): Promise<Page<DriftAlert>> {
    const where = compact({
      createdAt: rangeCondition(f.createdAt),
      status: f.status ?? undefined,
    }) as FilterQuery<DriftAlert>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }
}

import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { AuditAction } from '../enums';
import { compact, type DateRange, rangeCondition } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { AuditEvent } from './audit-event.entity';

/** What the audit trail may be narrowed by (ids already checked). */
export interface AuditFilter {
  patientId?: string | null;
  actorId?: string | null;
  action?: AuditAction | null;
  entityType?: string | null;
  createdAt?: DateRange;
}

/** Reads of the audit trail. */
export class AuditEventRepository extends EntityRepository<AuditEvent> {
  /** A page of audit events newest first. */
  findPage(f: AuditFilter, page: PageArgs, pageMax: number): Promise<Page<AuditEvent>> {
    const where = compact({
      patientId: f.patientId,
      actorId: f.actorId,
      action: f.action,
      entityType: f.entityType,
      createdAt: rangeCondition(f.createdAt),
    }) as FilterQuery<AuditEvent>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }
}

import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { assertIds } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { AuditEvent } from './audit-event.entity';
import type { AuditFilter } from './audit-event.repository';

/** Reads of the audit trail (admins only; never editable). */
export class AuditTrailService {
  constructor(private readonly pageMax: number) {}

  /** The audit trail, filtered. */
  async auditEvents(ctx: RequestContext, f: AuditFilter, page: PageArgs): Promise<Page<AuditEvent>> {
    assertPermission(ctx.principal, Permission.READ_AUDIT);
    assertIds({ patientId: f.patientId, actorId: f.actorId });
    return ctx.em.getRepository(AuditEvent).findPage(f, page, this.pageMax);
  }
}

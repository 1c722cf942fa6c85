import type { AuditEvent } from '../domain/audit/audit-event.entity';
import { AuditEventType } from './audit.types';

export const toAuditEvent = (a: AuditEvent): AuditEventType =>
  Object.assign(new AuditEventType(), {
    id: a.id,
    actorId: a.actorId ?? null,
    actorRole: a.actorRole ?? null,
    action: a.action,
    entityType: a.entityType,
    entityId: a.entityId ?? null,
    patientId: a.patientId ?? null,
    requestId: a.requestId ?? null,
    operation: a.operation ?? null,
    createdAt: a.createdAt,
  });

import { Entity, EntityRepositoryType, Enum, Index, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { AuditAction, Role } from '../enums';
import { AuditEventRepository } from './audit-event.repository';

/**
 * Who did what to which record, when. Append-only: the API exposes no mutation for it and a
 * database trigger (see the initial migration) rejects UPDATE and DELETE.
 */
@Entity({ repository: () => AuditEventRepository })
@Index({ properties: ['createdAt', 'id'] })
export class AuditEvent extends BaseEntity {
  [EntityRepositoryType]?: AuditEventRepository;

  @Property({ type: 'uuid', nullable: true })
  actorId?: string | null;

  @Enum({ items: () => Role, nullable: true })
  actorRole?: Role | null;

  @Enum({ items: () => AuditAction })
  action!: AuditAction;

  @Property({ type: 'text' })
  entityType!: string;

  @Property({ type: 'text', nullable: true })
  entityId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  @Index()
  patientId?: string | null;

  @Property({ type: 'text', nullable: true })
  requestId?: string | null;

  /** Operation name or field path; ids only, never PHI. */
  @Property({ type: 'text', nullable: true })
  operation?: string | null;
}

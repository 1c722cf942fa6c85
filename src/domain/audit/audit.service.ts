import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../../auth/principal';
import { AuditAction } from '../enums';
import { AuditEvent } from './audit-event.entity';

/** One audit record before it is written. Ids only: never names, MRNs or dates. */
export interface AuditEntry {
  action: AuditAction;
  entityType: string;
  entityId?: string | null;
  patientId?: string | null;
}

/**
 * Collects the audit events of one request. Reads are de-duplicated and written in one INSERT when
 * the request ends; writes are persisted by the service in the same transaction as the change, so a
 * mutation and its audit event commit (or fail) together.
 */
export class AuditCollector {
  private readonly pending = new Map<string, AuditEntry>();

  constructor(
    readonly principal: Principal | null,
    readonly requestId: string,
    public operation: string | null = null,
  ) {}

  /** Records a read of patient data, to be flushed at the end of the request. */
  read(entityType: string, entityId: string, patientId: string | null): void {
    const key = `${entityType}:${entityId}`;
    if (!this.pending.has(key))
      this.pending.set(key, { action: AuditAction.READ, entityType, entityId, patientId });
  }

  /**
   * Records an attempt the caller's role may not make (FORBIDDEN), to be flushed at the end of the
   * request: `what` names the refused field or route (`analyzeStudy.heatmapUrl`, `GET /predictions/:id/heatmap`).
   */
  denied(what: string): void {
    const key = `DENIED:${what}`;
    if (!this.pending.has(key))
      this.pending.set(key, {
        action: AuditAction.DENIED,
        entityType: 'Operation',
        entityId: what,
        patientId: null,
      });
  }

  /** Persists a write's audit event in the caller's unit of work (flushed with the change). */
  write(em: EntityManager, entry: AuditEntry): AuditEvent {
    const event = this.toEntity(entry);
    em.persist(event);
    return event;
  }

  /** Number of reads waiting to be written. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Hands over the collected reads and refusals without writing them, and forgets them: subscription
   * fan-out writes one row per entry for each recipient of a shared payload (see AuditBatchWriter).
   */
  take(): AuditEntry[] {
    const entries = [...this.pending.values()];
    this.pending.clear();
    return entries;
  }

  /** Writes the collected reads in one statement. */
  async flush(em: EntityManager): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()].map((entry) => this.toEntity(entry));
    this.pending.clear();
    await em.getRepository(AuditEvent).insertMany(rows);
  }

  private toEntity(entry: AuditEntry): AuditEvent {
    const event = new AuditEvent();
    event.actorId = this.principal?.userId ?? null;
    event.actorRole = this.principal?.role ?? null;
    event.action = entry.action;
    event.entityType = entry.entityType;
    event.entityId = entry.entityId ?? null;
    event.patientId = entry.patientId ?? null;
    event.requestId = this.requestId;
    event.operation = this.operation;
    return event;
  }
}

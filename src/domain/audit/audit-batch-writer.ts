import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../logging/logger';
import { loggableError } from '../../errors';
import type { Role } from '../enums';
import type { AuditEntry } from './audit.service';

/** Who received a delivery: one audit row per entry is written for each. */
export interface DeliveryRecipient {
  userId: string;
  role: Role;
  /** The request id of the recipient's subscription (one per subscription, the same for every event). */
  requestId: string;
}

/** One payload handed to its recipients: what was read to build it, who got it, when, under which label. */
export interface DeliveryRecord {
  at: Date;
  /** The server-made operation label (`subscription studyEvents`). */
  operation: string | null;
  entries: readonly AuditEntry[];
  recipients: readonly DeliveryRecipient[];
}

/** Where delivered reads are recorded: off the delivery path, never throwing. */
export interface DeliveryAuditSink {
  record(delivery: DeliveryRecord): void;
}

/** What the writer has done, for metrics. */
export interface AuditBatchStats {
  /** Rows waiting to be written. */
  pendingRows: number;
  writtenRows: number;
  /** INSERTs that failed (their rows stay pending and are tried again). */
  failedWrites: number;
  /** Rows given up because more than `maxPendingRows` waited (a long database outage). */
  droppedRows: number;
}

/** Options of {@link AuditBatchWriter}. */
export interface AuditBatchOptions {
  /** How long a recorded delivery waits before its rows are written (ms). */
  flushMs: number;
  /** Rows waiting beyond which a write starts at once. */
  batchRows?: number;
  /** Rows kept while writes fail; beyond it the oldest deliveries are given up (and logged). */
  maxPendingRows?: number;
}

/** Rows per INSERT statement at most. */
const ROWS_PER_STATEMENT = 20_000;

/**
 * One INSERT for many deliveries: each delivery's entries are crossed with its recipients in the
 * database, so the process sends each entry and each recipient once, not once per row.
 */
const INSERT_DELIVERIES = `insert into audit_event
  (id, created_at, actor_id, actor_role, action, entity_type, entity_id, patient_id, request_id, operation)
select gen_random_uuid(), d.at, r.actor_id, r.actor_role, e.action, e.entity_type, e.entity_id, e.patient_id,
  r.request_id, d.operation
from json_to_recordset(?::json) as d(at timestamptz, operation text, recipients json, entries json)
cross join lateral json_to_recordset(d.recipients) as r(actor_id uuid, actor_role text, request_id text)
cross join lateral json_to_recordset(d.entries) as e(action text, entity_type text, entity_id text, patient_id uuid)`;

/**
 * Writes the audit rows of subscription deliveries in batches: one multi-row INSERT per `flushMs`
 * (or sooner once `batchRows` wait), one at a time, so the trail of who received which patient's
 * data is complete without a write on the delivery path. Rows are the same as a request's reads
 * (actor, role, action, record, patient, request id, operation label). A failed write keeps its rows
 * and is retried at the next flush (after a failure, on a timer of at least a second rather than at
 * every record, so an outage is not hammered); a process killed between a delivery and its flush
 * loses at most `flushMs` of rows. This is the one home for batched audit writes: any path that
 * must audit reads without awaiting an INSERT records them here (one recipient per request).
 */
export class AuditBatchWriter implements DeliveryAuditSink {
  private pending: DeliveryRecord[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;
  /** The last write failed: writes wait for the retry timer instead of starting at every record. */
  private failing = false;
  private readonly counters = { writtenRows: 0, failedWrites: 0, droppedRows: 0 };
  private readonly batchRows: number;
  private readonly maxPendingRows: number;

  constructor(
    private readonly rootEm: EntityManager,
    private readonly options: AuditBatchOptions,
    private readonly logger: Logger,
  ) {
    this.batchRows = options.batchRows ?? 5_000;
    this.maxPendingRows = options.maxPendingRows ?? 2_000_000;
  }

  /** Queues a delivery's rows (entries × recipients); written within `flushMs`. */
  record(delivery: DeliveryRecord): void {
    const rows = delivery.entries.length * delivery.recipients.length;
    if (rows === 0) return;
    this.pending.push(delivery);
    this.pendingRows += rows;
    while (this.pendingRows > this.maxPendingRows && this.pending.length > 1) {
      const given = this.pending.shift()!;
      const lost = given.entries.length * given.recipients.length;
      this.pendingRows -= lost;
      this.counters.droppedRows += lost;
      this.logger.error({ rows: lost }, 'audit rows of a subscription delivery given up: too many waiting');
    }
    if (this.pendingRows >= this.batchRows && !this.failing) void this.flush();
    else if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.options.flushMs);
      this.timer.unref();
    }
  }

  /** Writes everything recorded so far; resolves once it is in the database (or the write failed). */
  async flush(): Promise<void> {
    // One write at a time, in order: a flush during a write waits for it, then writes what is left.
    while (this.writing) await this.writing;
    if (!this.pending.length) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    const rows = this.pendingRows;
    this.pending = [];
    this.pendingRows = 0;
    this.writing = this.write(batch)
      .then(() => {
        this.counters.writtenRows += rows;
        this.failing = false;
      })
      .catch((error: unknown) => {
        this.counters.failedWrites++;
        this.failing = true;
        this.logger.error({ err: loggableError(error), rows }, 'failed to write subscription audit rows');
        // Kept, oldest first, for the next flush.
        this.pending = [...batch, ...this.pending];
        this.pendingRows += rows;
        if (!this.timer && !this.closed) {
          this.timer = setTimeout(
            () => {
              this.timer = null;
              void this.flush();
            },
            Math.max(this.options.flushMs, 1000),
          );
          this.timer.unref();
        }
      })
      .finally(() => {
        this.writing = null;
      });
    await this.writing;
  }

  private async write(batch: DeliveryRecord[]): Promise<void> {
    const connection = this.rootEm.getConnection();
    let chunk: unknown[] = [];
    let chunkRows = 0;
    const send = async () => {
      if (!chunk.length) return;
      const json = JSON.stringify(chunk);
      chunk = [];
      chunkRows = 0;
      await connection.execute(INSERT_DELIVERIES, [json], 'run');
    };
    for (const d of batch) {
      chunk.push({
        at: d.at.toISOString(),
        operation: d.operation,
        recipients: d.recipients.map((r) => ({
          actor_id: r.userId,
          actor_role: r.role,
          request_id: r.requestId,
        })),
        entries: d.entries.map((e) => ({
          action: e.action,
          entity_type: e.entityType,
          entity_id: e.entityId ?? null,
          patient_id: e.patientId ?? null,
        })),
      });
      chunkRows += d.entries.length * d.recipients.length;
      if (chunkRows >= ROWS_PER_STATEMENT) await send();
    }
    await send();
  }

  /** Counters and the rows waiting. */
  stats(): AuditBatchStats {
    return { pendingRows: this.pendingRows, ...this.counters };
  }

  /** Writes what is pending and stops the timer. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

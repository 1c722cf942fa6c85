/**
 * The batched audit writer (issue 19): the rows of many deliveries in one INSERT, written off the
 * caller's path within `flushMs`, one row per entry and recipient, kept and retried when a write
 * fails, bounded while the database is away. Runs against the real database.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditBatchWriter, DeliveryRecord } from '../../src/domain/audit/audit-batch-writer';
import { AuditAction, Role } from '../../src/domain/enums';
import type { Logger } from '../../src/logging/logger';
import type { TestApp } from '../support/test-app';
import { startLightApp } from '../security/light-app';

let t: TestApp;
let recording: string[] | null = null;
const writers: AuditBatchWriter[] = [];
const logged: string[] = [];
const logger = {
  info: () => undefined,
  warn: () => undefined,
  error: (_obj: unknown, message: string) => logged.push(message),
} as unknown as Logger;

beforeAll(async () => {
  t = await startLightApp({}, { onQuery: (line) => recording?.push(line) });
});
afterAll(async () => {
  await Promise.all(writers.map((w) => w.close()));
  await t?.stop();
});

function writer(options: ConstructorParameters<typeof AuditBatchWriter>[1], em?: EntityManager) {
  const w = new AuditBatchWriter(em ?? (t.app.orm.em as unknown as EntityManager), options, logger);
  writers.push(w);
  return w;
}

/** A delivery of `entries` records of one patient to `recipients` users, under a fresh label. */
function delivery(
  entries: number,
  recipients: number,
  operation = `subscription ${randomUUID()}`,
): DeliveryRecord {
  const patientId = randomUUID();
  return {
    at: new Date('2026-01-02T03:04:05.000Z'),
    operation,
    entries: Array.from({ length: entries }, (_, i) => ({
      action: AuditAction.READ,
      entityType: i === 0 ? 'Patient' : 'Study',
      entityId: i === 0 ? patientId : randomUUID(),
      patientId,
    })),
    recipients: Array.from({ length: recipients }, (_, i) => ({
      userId: randomUUID(),
      role: i % 2 ? Role.TECHNICIAN : Role.INTEGRATOR,
      requestId: `req-${randomUUID()}`,
    })),
  };
}

async function rowsOf(operation: string): Promise<Record<string, unknown>[]> {
  return (await t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      `select actor_id, actor_role, action, entity_type, entity_id, patient_id, request_id, operation,
                (extract(epoch from created_at) * 1000)::bigint::text as created_at
         from audit_event where operation = ? order by actor_id, entity_type, entity_id`,
      [operation],
    )) as Record<string, unknown>[];
}

/** The rows a delivery must leave: each entry for each recipient. */
function expectedRows(d: DeliveryRecord) {
  return byRow(
    d.recipients.flatMap((r) =>
      d.entries.map((e) => ({
        actor_id: r.userId,
        actor_role: r.role,
        action: e.action,
        entity_type: e.entityType,
        entity_id: e.entityId,
        patient_id: e.patientId,
        request_id: r.requestId,
        operation: d.operation,
        created_at: String(d.at.getTime()),
      })),
    ),
  );
}

/** Rows in the order {@link rowsOf} reads them. */
function byRow<T extends { actor_id: string; entity_type: string; entity_id?: string | null }>(
  rows: T[],
): T[] {
  const key = (r: T) => [r.actor_id, r.entity_type, r.entity_id ?? ''];
  return [...rows].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
}

/** Resolves once `check` holds, polling the database (at most `timeoutMs`). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('AuditBatchWriter', () => {
  it('writes the rows of many deliveries on its own within flushMs, in one INSERT, one row per entry and recipient', async () => {
    const w = writer({ flushMs: 50 });
    const label = `subscription ${randomUUID()}`;
    const deliveries = [delivery(2, 3, label), delivery(3, 1, label), delivery(1, 4, label)];
    recording = [];
    for (const d of deliveries) w.record(d);
    expect(w.stats().pendingRows).toBe(6 + 3 + 4);
    // Nobody calls flush: the timer writes them.
    await until(async () => (await rowsOf(label)).length === 13, '13 rows');
    const inserts = recording.filter((s) => /insert into audit_event/i.test(s));
    recording = null;
    expect(inserts).toHaveLength(1);
    expect(await rowsOf(label)).toEqual(byRow(deliveries.flatMap(expectedRows)));
    expect(w.stats()).toMatchObject({ pendingRows: 0, writtenRows: 13, failedWrites: 0, droppedRows: 0 });
  });

  it('starts a write at once when batchRows wait, without waiting for the timer', async () => {
    const w = writer({ flushMs: 600_000, batchRows: 10 });
    const small = delivery(1, 2);
    const big = delivery(2, 5);
    w.record(small);
    w.record(big);
    await until(async () => (await rowsOf(big.operation!)).length === 10, 'the batch');
    expect(await rowsOf(small.operation!)).toEqual(expectedRows(small));
  });

  it('keeps the rows of a failed write and writes them, once, with the next flush', async () => {
    const real = t.app.orm.em as unknown as EntityManager;
    let failures = 1;
    const flaky = {
      getConnection: () => ({
        execute: (...args: Parameters<ReturnType<EntityManager['getConnection']>['execute']>) => {
          if (failures-- > 0) return Promise.reject(new Error('connection reset'));
          return real.getConnection().execute(...args);
        },
      }),
    } as unknown as EntityManager;
    const w = writer({ flushMs: 600_000 }, flaky);
    const first = delivery(2, 2);
    w.record(first);
    await w.flush();
    expect(w.stats()).toMatchObject({ pendingRows: 4, writtenRows: 0, failedWrites: 1 });
    expect(await rowsOf(first.operation!)).toEqual([]);
    expect(logged).toContain('failed to write subscription audit rows');

    const second = delivery(1, 3);
    w.record(second);
    await w.flush();
    expect(w.stats()).toMatchObject({ pendingRows: 0, writtenRows: 7, failedWrites: 1 });
    expect(await rowsOf(first.operation!)).toEqual(expectedRows(first));
    expect(await rowsOf(second.operation!)).toEqual(expectedRows(second));
  });

  it('gives up the oldest deliveries beyond maxPendingRows while writes fail (counted), never growing without bound', async () => {
    const down = {
      getConnection: () => ({ execute: () => Promise.reject(new Error('database is away')) }),
    } as unknown as EntityManager;
    const w = writer({ flushMs: 600_000, maxPendingRows: 10, batchRows: 5 }, down);
    w.record(delivery(2, 2));
    await w.flush();
    expect(w.stats()).toMatchObject({ pendingRows: 4, failedWrites: 1 });
    // Past batchRows now, yet no write per record while failing (the retry timer writes), and the
    // oldest rows go beyond maxPendingRows.
    for (let i = 0; i < 4; i++) w.record(delivery(2, 2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(w.stats()).toMatchObject({ pendingRows: 8, droppedRows: 12, failedWrites: 1 });
    expect(logged).toContain('audit rows of a subscription delivery given up: too many waiting');
  });

  it('close writes what is pending', async () => {
    const w = new AuditBatchWriter(t.app.orm.em as unknown as EntityManager, { flushMs: 600_000 }, logger);
    const d = delivery(3, 2);
    w.record(d);
    await w.close();
    expect(await rowsOf(d.operation!)).toEqual(expectedRows(d));
  });
});

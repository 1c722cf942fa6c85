/**
 * The SQL that services run through repositories and the advisory-lock helper (issue 14, item 2): a
 * repository taken from the transactional EntityManager (`tem.getRepository(X)`) runs inside that
 * transaction, and each lock key keeps the identity its callers have always used, so processes running
 * older code still exclude newer ones. Runs against the real database.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { createOrm, migrateToLatest } from '../../src/db/orm';
import { AnalysisJob } from '../../src/domain/analysis/analysis-job.entity';
import { AnalysisJobStatus } from '../../src/domain/enums';
import {
  AdvisoryLockKey,
  lockForTransaction,
  tryLockForTransaction,
} from '../../src/domain/shared/advisory-lock';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';

let db: TestDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm({ url: db.url, poolMax: 3 });
  await migrateToLatest(orm);
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const fork = () => orm.em.fork() as EntityManager;

async function newJob(studyIds: string[]): Promise<AnalysisJob> {
  const em = fork();
  const job = em.create(AnalysisJob, { studyIds, total: studyIds.length } as AnalysisJob);
  await em.flush();
  return job;
}

/**
 * Whether another session holds the advisory lock that `args` (the lock function's arguments, with
 * `$n` placeholders) name: tries it from a connection of its own and lets it go again.
 */
async function heldElsewhere(args: string, params: unknown[]): Promise<boolean> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ got: boolean }>(`select pg_try_advisory_lock(${args}) as got`, params);
    if (rows[0]!.got) await c.query(`select pg_advisory_unlock(${args})`, params);
    return !rows[0]!.got;
  } finally {
    await c.end();
  }
}

describe('a repository from the transactional EntityManager', () => {
  it('runs inside that transaction: its update is seen there, not outside, and rolls back with it', async () => {
    const studyId = randomUUID();
    const job = await newJob([studyId]);
    await expect(
      fork().transactional(async (tem) => {
        const jobs = tem.getRepository(AnalysisJob);
        await jobs.recordStudyCompleted(job.id, studyId, randomUUID());
        expect(await jobs.isStudyCounted(job.id, studyId)).toBe(true);
        if (db.real)
          expect(await fork().getRepository(AnalysisJob).isStudyCounted(job.id, studyId)).toBe(false);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await fork().getRepository(AnalysisJob).isStudyCounted(job.id, studyId)).toBe(false);
  });

  it('counts a study once and finishes the job once every study is counted', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const job = await newJob([a, b]);
    const jobs = fork().getRepository(AnalysisJob);
    await jobs.startIfQueued(job.id);
    await fork().transactional((tem) =>
      tem.getRepository(AnalysisJob).recordStudyCompleted(job.id, a, 'p-a'),
    );
    expect(await jobs.recordStudyFailure(job.id, a, 'LATE')).toBe(false);
    await jobs.finishIfDone(job.id);
    let row = await fork().getRepository(AnalysisJob).findOneOrFail({ id: job.id });
    expect([row.status, row.completed, row.failed, row.finishedAt]).toEqual([
      AnalysisJobStatus.RUNNING,
      1,
      0,
      null,
    ]);
    expect(await jobs.recordStudyFailure(job.id, b, 'NOT_FOUND')).toBe(true);
    expect(await jobs.recordStudyFailure(job.id, b, 'NOT_FOUND')).toBe(false);
    await jobs.finishIfDone(job.id);
    row = await fork().getRepository(AnalysisJob).findOneOrFail({ id: job.id });
    expect([row.status, row.completed, row.failed]).toEqual([AnalysisJobStatus.COMPLETED, 1, 1]);
    expect([row.results, row.failures]).toEqual([{ [a]: 'p-a' }, { [b]: 'NOT_FOUND' }]);
    expect(row.finishedAt).toBeInstanceOf(Date);
  });
});

describe('transaction-scoped advisory locks', () => {
  it('hold the keys the callers always used until the transaction ends, each form its own identity', async () => {
    if (!requireOrSkip(db.real, 'a real PostgreSQL (DATABASE_URL) to try the locks from a second session'))
      return;
    const name = randomUUID();
    await fork().transactional(async (tem) => {
      await lockForTransaction(
        tem,
        AdvisoryLockKey.hashtext(`a:${name}`),
        AdvisoryLockKey.hashtextExtended(`b:${name}`),
        AdvisoryLockKey.namespaced(5_021_117, `c:${name}`),
      );
      expect(await heldElsewhere('hashtext($1)', [`a:${name}`])).toBe(true);
      expect(await heldElsewhere('hashtextextended($1, 0)', [`b:${name}`])).toBe(true);
      expect(await heldElsewhere('$1::int, hashtext($2)', [5_021_117, `c:${name}`])).toBe(true);
      // The same names under another form are other locks.
      expect(await heldElsewhere('hashtextextended($1, 0)', [`a:${name}`])).toBe(false);
      expect(await heldElsewhere('hashtext($1)', [`b:${name}`])).toBe(false);
      expect(await heldElsewhere('hashtext($1)', [`c:${name}`])).toBe(false);
    });
    expect(await heldElsewhere('hashtext($1)', [`a:${name}`])).toBe(false);
    expect(await heldElsewhere('hashtextextended($1, 0)', [`b:${name}`])).toBe(false);
    expect(await heldElsewhere('$1::int, hashtext($2)', [5_021_117, `c:${name}`])).toBe(false);
  });

  it('try-lock says false while another session holds the key, true once it is free', async () => {
    if (!requireOrSkip(db.real, 'a real PostgreSQL (DATABASE_URL) to hold the lock from a second session'))
      return;
    const key = `drift:${randomUUID()}`;
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock(hashtext($1))', [key]);
      expect(
        await fork().transactional((tem) => tryLockForTransaction(tem, AdvisoryLockKey.hashtext(key))),
      ).toBe(false);
      await other.query('select pg_advisory_unlock(hashtext($1))', [key]);
      await fork().transactional(async (tem) => {
        expect(await tryLockForTransaction(tem, AdvisoryLockKey.hashtext(key))).toBe(true);
        expect(await heldElsewhere('hashtext($1)', [key])).toBe(true);
      });
    } finally {
      await other.end();
    }
  });
});

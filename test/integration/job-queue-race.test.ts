import pino from 'pino';
import { PgBossJobQueue } from '../../src/jobs/pg-boss.job-queue';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';

/**
 * Regression: processes starting together on a fresh database create the same pg-boss queues at
 * once; PostgreSQL ended some of those creations with "deadlock detected" and the process failed to
 * start (seen in scale-out-kill.test.ts). Each start must now succeed.
 */
describe('job queues created by three processes at once', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('starts all three, each working both queues', async () => {
    if (!requireOrSkip(db.real, 'a real PostgreSQL (DATABASE_URL) for concurrent pg-boss starts')) return;
    const logger = pino({ level: 'silent' });
    const queues = await Promise.all([0, 1, 2].map(() => PgBossJobQueue.start(db.url, logger)));
    try {
      const results = await Promise.allSettled(
        queues.flatMap((q) =>
          ['analyze-study', 'race-second-queue'].map((name) =>
            q.work(name, { concurrency: 1, pollingIntervalSeconds: 1 }, async () => undefined),
          ),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      for (const q of queues) expect(await q.queued('analyze-study')).toBe(0);
    } finally {
      await Promise.all(queues.map((q) => q.stop()));
    }
  }, 60_000);
});

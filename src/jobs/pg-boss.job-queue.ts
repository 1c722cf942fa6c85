import type { EventEmitter } from 'node:events';
import PgBoss from 'pg-boss';
import type { Logger } from '../logging/logger';
import { JOB_STATES, JobQueue, JobState, QueuedJob } from './job-queue';

type Settle = (this: EventEmitter, ...args: unknown[]) => Promise<unknown>;

/**
 * pg-boss 10 calls `complete`/`fail` after a handler without awaiting them (manager.js, `onFetch`),
 * so when PostgreSQL is down at that moment the rejection is unhandled and Node ends the process
 * (found by the soak test's restart). Here they report through pg-boss's `error` event instead; the
 * job stays active, expires and is retried, and the handler is idempotent per study.
 */
function settleWithoutUnhandledRejections(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto = (require('pg-boss/src/manager') as { prototype: Record<string, Settle & { safe?: true }> })
    .prototype;
  for (const method of ['complete', 'fail']) {
    const original = proto[method];
    if (original.safe) continue;
    const safe: Settle & { safe?: true } = function (this: EventEmitter, ...args: unknown[]) {
      return original.apply(this, args).catch((error: unknown) => {
        this.emit('error', error);
        return undefined;
      });
    };
    safe.safe = true;
    proto[method] = safe;
  }
}
settleWithoutUnhandledRejections();

/** JobQueue on PostgreSQL with pg-boss (SKIP LOCKED delivery, retries, expiry), in schema `pgboss`. */
export class PgBossJobQueue implements JobQueue {
  private readonly created = new Set<string>();

  private constructor(
    private readonly boss: PgBoss,
    private readonly logger: Logger,
  ) {}

  /**
   * Connects and installs or migrates pg-boss's schema. Every `maintenanceIntervalSeconds` one process
   * fails expired active jobs (their worker died) into retry, so another process takes them.
   */
  static async start(
    url: string,
    logger: Logger,
    options: { poolMax?: number; maintenanceIntervalSeconds?: number } = {},
  ): Promise<PgBossJobQueue> {
    const boss = new PgBoss({
      connectionString: url,
      schema: 'pgboss',
      max: options.poolMax ?? 4,
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    });
    boss.on('error', (error: Error) => logger.warn({ err: error.message }, 'job queue error'));
    await boss.start();
    return new PgBossJobQueue(boss, logger);
  }

  /**
   * Creates the queue once. Several processes starting together race to create queues (each a
   * partition of pgboss.job), which can end in a unique violation or a deadlock for one of them
   * (found by the scale-out test starting three processes at once); the loser retries after a
   * jittered pause and finds the queue created.
   */
  private async ensureQueue(name: string): Promise<void> {
    if (this.created.has(name)) return;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await this.boss.getQueue(name)))
          await this.boss.createQueue(name, { name, policy: 'standard' });
        break;
      } catch (error) {
        if (await this.boss.getQueue(name).catch(() => null)) break;
        if (attempt >= 5) throw error;
        this.logger.warn(
          { queue: name, attempt, err: (error as Error).message },
          'creating a job queue failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt + Math.random() * 200));
      }
    }
    this.created.add(name);
  }

  async enqueue<T extends object>(
    queue: string,
    jobs: T[],
    options: { retryLimit?: number; expireInSeconds?: number; priority?: number } = {},
  ): Promise<string[]> {
    await this.ensureQueue(queue);
    const ids: string[] = [];
    for (const data of jobs) {
      const id = await this.boss.send(queue, data, {
        retryLimit: options.retryLimit ?? 2,
        retryDelay: 2,
        expireInSeconds: options.expireInSeconds ?? 300,
        priority: options.priority ?? 0,
      });
      if (!id) throw new Error('the job queue refused a job');
      ids.push(id);
    }
    return ids;
  }

  async work<T>(
    queue: string,
    options: { concurrency: number; pollingIntervalSeconds: number },
    handler: (job: QueuedJob<T>) => Promise<void>,
  ): Promise<void> {
    await this.ensureQueue(queue);
    // One job per fetch, several workers: a failing job fails (and retries) alone.
    for (let i = 0; i < options.concurrency; i++) {
      await this.boss.work<T>(
        queue,
        { batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds, includeMetadata: true },
        async ([job]) => {
          await handler({
            id: job.id,
            data: job.data,
            retryCount: job.retryCount,
            retryLimit: job.retryLimit,
          });
        },
      );
    }
  }

  async queued(queue: string): Promise<number> {
    await this.ensureQueue(queue);
    return this.boss.getQueueSize(queue);
  }

  async states(queue: string): Promise<Record<JobState, number>> {
    const { rows } = await this.boss
      .getDb()
      .executeSql('select state, count(*)::int as n from pgboss.job where name = $1 group by state', [queue]);
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const row of rows as { state: JobState; n: number }[])
      if (row.state in counts) counts[row.state] = row.n;
    return counts;
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: 5000, wait: true } as PgBoss.StopOptions);
  }
}

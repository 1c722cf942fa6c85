/**
 * The embedded PostgreSQL (PGlite behind one socket server) shared by several connections. Regression
 * (issue 15): the socket server ran each wire-protocol message of each connection in turn, so one
 * connection's Parse could land between another's Parse and Bind; pg-boss on the embedded database
 * logged `bind message supplies 3 parameters, but prepared statement "" requires 1`, left a job
 * active and retried it minutes later. An extended-query sequence now holds the backend until its Sync.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, Socket } from 'node:net';
import { Client } from 'pg';
import { serialize } from 'pg-protocol';
import { startEmbeddedPostgres, EmbeddedPostgres } from '../../src/db/embedded-postgres';
import { PgBossJobQueue } from '../../src/jobs/pg-boss.job-queue';
import { createLogger } from '../../src/logging/logger';

let db: EmbeddedPostgres;
let dir: string;
beforeAll(async () => {
  // On disk, as `npm start` runs it: writes yield to the event loop between messages.
  dir = mkdtempSync(join(tmpdir(), 'cc-pglite-'));
  db = await startEmbeddedPostgres(dir);
});
afterAll(async () => {
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A bare wire-protocol connection: what it received, message by message (type and body). */
class RawConnection {
  readonly messages: { type: string; body: Buffer }[] = [];
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 5) {
        const length = this.buffer.readInt32BE(1);
        if (this.buffer.length < 1 + length) break;
        this.messages.push({
          type: String.fromCharCode(this.buffer[0]!),
          body: this.buffer.subarray(5, 1 + length),
        });
        this.buffer = this.buffer.subarray(1 + length);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string): Promise<RawConnection> {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const conn = new RawConnection(socket);
    socket.write(serialize.startup({ user: 'postgres', database: 'postgres' }));
    await conn.waitFor('Z');
    return conn;
  }

  count(type: string): number {
    return this.messages.filter((m) => m.type === type).length;
  }

  /** Resolves once `n` messages of `type` have arrived. */
  async waitFor(type: string, n = 1): Promise<void> {
    while (this.count(type) < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Texts of the ErrorResponses received. */
  errors(): string[] {
    return this.messages
      .filter((m) => m.type === 'E')
      .map((m) => m.body.toString('latin1').replace(/\0/g, ' '));
  }
}

it("keeps one connection's Parse and Bind together while another sends a whole exchange in between", async () => {
  const a = await RawConnection.open(db.url);
  const b = await RawConnection.open(db.url);
  try {
    // A parses a three-parameter statement and waits for ParseComplete before binding it.
    a.socket.write(
      Buffer.concat([serialize.parse({ text: 'select $1::int + $2::int + $3::int' }), serialize.flush()]),
    );
    await a.waitFor('1');
    // B sends a whole one-parameter exchange meanwhile.
    b.socket.write(
      Buffer.concat([
        serialize.parse({ text: 'select $1::text' }),
        serialize.bind({ values: ['b'] }),
        serialize.execute(),
        serialize.sync(),
      ]),
    );
    // Either B ran at once (the old interleaving) or it waits for A's exchange to end.
    while (b.count('Z') < 2 && db.stats().waiting === 0)
      await new Promise((resolve) => setImmediate(resolve));
    a.socket.write(
      Buffer.concat([serialize.bind({ values: ['1', '2', '3'] }), serialize.execute(), serialize.sync()]),
    );
    await a.waitFor('Z', 2);
    await b.waitFor('Z', 2);
    expect(a.errors()).toEqual([]);
    expect(b.errors()).toEqual([]);
    expect(a.count('D')).toBe(1);
    expect(b.count('D')).toBe(1);
  } finally {
    a.socket.destroy();
    b.socket.destroy();
  }
});

it('runs parameterised statements of several connections at once without mixing their messages', async () => {
  const clients = await Promise.all(
    [0, 1, 2, 3, 4, 5].map(async () => {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      return c;
    }),
  );
  try {
    const failures: string[] = [];
    await Promise.all(
      clients.map(async (c, k) => {
        for (let i = 0; i < 40; i++) {
          try {
            if (i % 5 === 0) {
              // A write, and a statement long enough to arrive in more than one TCP chunk.
              await c.query(`create table if not exists probe_${k} (n int, s text)`);
              await c.query(`insert into probe_${k} values ($1, $2)`, [i, 'x'.repeat(200_000)]);
            } else if ((i + k) % 2 === 0) {
              const r = await c.query('select $1::int + $2::int + $3::int as n', [i, k, 1]);
              expect(r.rows[0].n).toBe(i + k + 1);
            } else {
              const r = await c.query('select $1::text as s', [`c${k}-${i}`]);
              expect(r.rows[0].s).toBe(`c${k}-${i}`);
            }
          } catch (error) {
            failures.push((error as Error).message);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
});

it('keeps a transaction of one connection apart from the statements of another', async () => {
  const [a, b] = [new Client({ connectionString: db.url }), new Client({ connectionString: db.url })];
  await Promise.all([a.connect(), b.connect()]);
  try {
    await a.query('create table if not exists tx_probe (n int)');
    await a.query('begin');
    await a.query('insert into tx_probe values ($1)', [1]);
    const seen = b.query('select count(*)::int as n from tx_probe where n = $1', [1]);
    await a.query('rollback');
    expect((await seen).rows[0].n).toBe(0);
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});

it('lets pg-boss complete every job with several workers, leaving none active and logging no queue error', async () => {
  const warnings: string[] = [];
  const logger = createLogger('silent');
  const warn = logger.warn.bind(logger);
  logger.warn = ((obj: unknown, msg?: string) => {
    warnings.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
    return warn(obj as never, msg as never);
  }) as typeof logger.warn;
  const queue = await PgBossJobQueue.start(db.url, logger, { maintenanceIntervalSeconds: 1 });
  try {
    const done = new Set<number>();
    let resolveAll!: () => void;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    await queue.work<{ n: number }>(
      'embedded-probe',
      { concurrency: 4, pollingIntervalSeconds: 0.5 },
      async (job) => {
        done.add(job.data.n);
        if (done.size === 24) resolveAll();
      },
    );
    await queue.enqueue(
      'embedded-probe',
      Array.from({ length: 24 }, (_, n) => ({ n })),
    );
    await all;
    // Completion is written after the handler returns: wait until the queue says so.
    for (;;) {
      const states = await queue.states('embedded-probe');
      if (states.completed === 24) {
        expect(states.active).toBe(0);
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(warnings.filter((w) => /job queue error|bind message/.test(w))).toEqual([]);
  } finally {
    await queue.stop();
  }
});

/**
 * PgEventTarget's batching (issue 18), on real PostgreSQL: events published in one turn of the event
 * loop go out in one statement and arrive in order, an identical payload published twice arrives twice
 * (PostgreSQL would fold it within one statement), and what was published before close still goes out.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/logger';
import { PgEventTarget } from '../../src/pubsub/pg-event-target';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';

const quiet = createLogger('fatal', new Writable({ write: (_c, _e, done) => done() }));

describe('PgEventTarget on PostgreSQL', () => {
  let db: TestDatabase;
  let real = false;
  const targets: PgEventTarget[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    real = requireOrSkip(db.real, 'LISTEN/NOTIFY needs a real PostgreSQL server');
  });
  afterAll(async () => {
    await Promise.all(targets.map((t) => t.close()));
    await db?.drop();
  });

  const started = async () => {
    const t = new PgEventTarget(db.url, quiet);
    await t.start();
    targets.push(t);
    return t;
  };
  const collect = (t: PgEventTarget, type: string) => {
    const got: unknown[] = [];
    t.addEventListener(type, (e) => got.push((e as CustomEvent).detail));
    return got;
  };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('delivers the events of one turn in order, a repeated payload as often as it was published', async () => {
    if (!real) return;
    const publisher = await started();
    const listener = await started();
    const got = collect(listener, 'E');
    const mine = collect(publisher, 'E');
    const sent = [{ n: 1 }, { n: 2 }, { n: 1 }, { n: 3 }, { n: 3 }];
    for (const detail of sent) publisher.dispatchEvent(new CustomEvent('E', { detail }));
    await until(() => got.length >= sent.length && mine.length >= sent.length);
    expect(got).toEqual(sent);
    expect(mine).toEqual(sent);
  });

  it('sends what was published before close', async () => {
    if (!real) return;
    const publisher = await started();
    const listener = await started();
    const got = collect(listener, 'F');
    publisher.dispatchEvent(new CustomEvent('F', { detail: { last: true } }));
    await publisher.close();
    await until(() => got.length >= 1);
    expect(got).toEqual([{ last: true }]);
  });
});

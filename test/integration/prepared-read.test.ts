/**
 * PreparedRead (issue 18): a hot read as a named prepared statement on real PostgreSQL. It answers as
 * `em.execute` would, is logged as one statement, reads inside a transaction on that transaction's
 * connection, survives a schema change under a connection that prepared it, and fails as MikroORM fails.
 * runStatement (the one-statement writes) prepares each text it sends once per connection, up to a bound.
 */
import { DriverException } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createOrm } from '../../src/db/orm';
import { MAX_PREPARED_STATEMENTS, PreparedRead, runStatement } from '../../src/domain/shared/prepared-read';
import { statementOf } from '../support/query-recorder';
import { createTestDatabase, TestDatabase } from '../support/test-database';

describe('PreparedRead on PostgreSQL', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  const log: string[] = [];
  const read = new PreparedRead(
    'prepared_read_test',
    'select * from thing where id = ?::int or name = ? order by id',
  );

  beforeAll(async () => {
    db = await createTestDatabase();
    // one connection: every read below runs on the connection that prepared the statement
    orm = (await createOrm({ url: db.url, poolMax: 1, onQuery: (l) => log.push(l) })) as MikroORM;
    await orm.em.getConnection().execute('create table thing (id int primary key, name text)');
    await orm.em.getConnection().execute(`insert into thing values (1, 'one'), (2, 'two'), (3, 'three')`);
  });
  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  it('answers what em.execute answers, and logs one statement', async () => {
    const em = orm.em.fork();
    log.length = 0;
    const rows = await read.rows<{ id: number; name: string }>(em, [1, 'three']);
    expect(rows).toEqual([
      { id: 1, name: 'one' },
      { id: 3, name: 'three' },
    ]);
    expect(
      await em.execute('select * from thing where id = ?::int or name = ? order by id', [1, 'three']),
    ).toEqual(rows);
    expect(log.flatMap((l) => statementOf(l) ?? [])[0]).toContain('select * from thing');
    // prepared on the connection (the pool's only one, which em.execute uses too), and used again
    expect(await em.execute('select name from pg_prepared_statements')).toEqual([
      { name: 'prepared_read_test' },
    ]);
    expect(await read.rows(em, [2, 'none'])).toEqual([{ id: 2, name: 'two' }]);
  });

  it("reads inside a transaction on that transaction's connection (its own uncommitted rows)", async () => {
    await orm.em.fork().transactional(async (em) => {
      await em.execute(`insert into thing values (4, 'four')`);
      expect(await read.rows(em, [4, 'x'])).toEqual([{ id: 4, name: 'four' }]);
      await em.execute('delete from thing where id = 4');
    });
  });

  it('prepares again when the schema changed under the statement (a migration by a newer release)', async () => {
    const em = orm.em.fork();
    expect(await read.rows(em, [1, 'x'])).toEqual([{ id: 1, name: 'one' }]);
    await em.execute('alter table thing add column note text');
    try {
      expect(await read.rows(em, [1, 'x'])).toEqual([{ id: 1, name: 'one', note: null }]);
      expect(await read.rows(em, [2, 'x'])).toEqual([{ id: 2, name: 'two', note: null }]);
    } finally {
      await em.execute('alter table thing drop column note');
    }
  });

  it('fails as MikroORM fails (its exception), and the connection serves the next read', async () => {
    const em = orm.em.fork();
    await expect(read.rows(em, ['not a number', 'x'])).rejects.toBeInstanceOf(DriverException);
    expect(await read.rows(em, [3, 'x'])).toEqual([{ id: 3, name: 'three' }]);
  });

  it('runStatement prepares a text once per connection, by a name from its text, and not in a transaction', async () => {
    const em = orm.em.fork();
    const prepared = async () =>
      (
        await em.execute<{ name: string; statement: string }[]>(
          "select name, statement from pg_prepared_statements where name like 'cc\\_%' order by name",
        )
      ).map((r) => [r.name, r.statement]);
    const insert = 'insert into thing (id, name) values (?, ?)';
    await runStatement(em, insert, [10, 'ten']);
    await runStatement(em, insert, [11, 'eleven']);
    const after = await prepared();
    expect(after).toEqual([
      [expect.stringMatching(/^cc_[0-9a-f]{24}$/), 'insert into thing (id, name) values ($1, $2)'],
    ]);
    expect(await em.execute('select id, name from thing where id >= 10 order by id')).toEqual([
      { id: 10, name: 'ten' },
      { id: 11, name: 'eleven' },
    ]);
    await em.transactional(async (tx) => {
      await runStatement(tx, 'delete from thing where id >= ?', [10]);
    });
    expect(await prepared()).toEqual(after);
    expect(await em.execute('select count(*)::int as n from thing where id >= 10')).toEqual([{ n: 0 }]);
  });

  it(`runStatement prepares at most ${MAX_PREPARED_STATEMENTS} texts; the ones after are sent unprepared and still answer`, async () => {
    const em = orm.em.fork();
    for (let k = 0; k < MAX_PREPARED_STATEMENTS + 6; k++)
      expect(await runStatement(em, `select ?::int + ${k} as v`, [1])).toEqual([{ v: 1 + k }]);
    const [{ n }] = await em.execute<{ n: number }[]>(
      "select count(*)::int as n from pg_prepared_statements where name like 'cc\\_%'",
    );
    expect(n).toBe(MAX_PREPARED_STATEMENTS);
  });
});

import { MIGRATIONS } from '../../migrations';
import { createOrm, migrateToLatest } from '../../src/db/orm';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('apply once when several processes start together on an empty database', async () => {
    // PGlite is one backend session behind a multiplexer, so advisory locks cannot exclude there.
    if (!requireOrSkip(db.real, 'concurrent migration needs a real PostgreSQL (DATABASE_URL)')) return;
    const orms = await Promise.all([1, 2, 3].map(() => createOrm({ url: db.url, poolMax: 2 })));
    try {
      const results = await Promise.all(orms.map((orm) => migrateToLatest(orm)));
      expect(results.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    } finally {
      await Promise.all(orms.map((orm) => orm.close(true)));
    }
  });

  it('build exactly the schema the entities describe (no drift between entities and migration files)', async () => {
    const orm = await createOrm({ url: db.url, poolMax: 2 });
    try {
      await migrateToLatest(orm);
      expect(await migrateToLatest(orm)).toEqual([]);
      const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false });
      expect(diff.trim()).toBe('');
    } finally {
      await orm.close(true);
    }
  });
});

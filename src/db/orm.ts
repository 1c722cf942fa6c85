import { Client } from 'pg';
import { MikroORM, Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from '../domain/entities';
import { MIGRATIONS } from '../../migrations';

/** Options for {@link createOrm}. */
export interface OrmOptions {
  url: string;
  poolMax: number;
  /** Called with every SQL statement sent; used by tests that count queries. */
  onQuery?: (sql: string) => void;
}

/** Builds the MikroORM configuration shared by the server, the CLI and the migration scripts. */
function ormConfig(options: OrmOptions): Options {
  return {
    clientUrl: options.url,
    entities: ENTITIES,
    extensions: [Migrator],
    pool: { min: 0, max: options.poolMax },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: options.onQuery ? ['query'] : false,
    logger: options.onQuery ? (message: string) => options.onQuery!(message) : () => undefined,
    colors: false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: 'migrations',
      pathTs: 'migrations',
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
    },
  };
}

/** Connects the ORM; call {@link migrateToLatest} before serving. */
export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormConfig(options));
}

/** Advisory-lock key held while migrating, so replicas starting together migrate one at a time. */
const MIGRATION_LOCK_KEY = 7_243_001;

/**
 * Applies every pending migration (the only way the schema changes). Several processes may start at
 * once on one database: a PostgreSQL advisory lock serialises them, and the later ones find nothing to do.
 */
export async function migrateToLatest(orm: MikroORM): Promise<string[]> {
  const lock = new Client({ connectionString: orm.config.get('clientUrl') });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

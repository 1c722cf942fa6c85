import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

/** A database private to one test file. */
export interface TestDatabase {
  url: string;
  /** True when it is a real PostgreSQL server (LISTEN/NOTIFY, several processes). */
  real: boolean;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database: a new database on the PostgreSQL of DATABASE_URL when set, else an
 * in-memory embedded PGlite.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const embedded = await startEmbeddedPostgres('memory://');
    return { url: embedded.url, real: false, drop: () => embedded.stop() };
  }
  const name = `cc_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    real: true,
    async drop() {
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Skips loudly when a prerequisite is missing; under CI=true a missing prerequisite fails instead,
 * so CI can never pass by skipping.
 */
export function requireOrSkip(condition: boolean, reason: string): boolean {
  if (condition) return true;
  if (process.env.CI === 'true') throw new Error(`Required in CI but unavailable: ${reason}`);
  console.warn(`SKIPPED: ${reason}`);
  return false;
}

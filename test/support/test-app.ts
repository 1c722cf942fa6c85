import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, AppOverrides, createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { Role } from '../../src/domain/enums';
import { createTestDatabase, TestDatabase } from './test-database';

/** A running app on a private database and object store, with helpers to call it. */
export interface TestApp {
  app: App;
  db: TestDatabase;
  storageDir: string;
  /** Creates a user with this role and returns a bearer token for it. */
  tokenFor(role: Role, email?: string): Promise<string>;
  /** POSTs a GraphQL operation; returns the parsed JSON body and the HTTP status. */
  gql<T = Record<string, unknown>>(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{
    status: number;
    data?: T;
    errors?: { message: string; extensions?: { code?: string; details?: Record<string, unknown> } }[];
  }>;
  stop(): Promise<void>;
}

let counter = 0;

/** Starts the whole app on port 0 with a fresh database and a temporary filesystem object store. */
export async function startTestApp(
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  const storageDir = mkdtempSync(join(tmpdir(), 'cc-objects-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: db.url,
    STORAGE_DRIVER: 'fs',
    STORAGE_FS_DIR: storageDir,
    AUTH_SECRET: 'test-secret-test-secret-test-secret-0123',
    LOG_LEVEL: 'silent',
    PUBSUB_DRIVER: db.real ? 'postgres' : 'memory',
    ...env,
  });
  const app = await createApp(config, overrides);
  return {
    app,
    db,
    storageDir,
    async tokenFor(role: Role, email?: string) {
      const { token } = await app.users.bootstrapAdmin(
        email ?? `${role.toLowerCase()}-${process.pid}-${++counter}@test`,
        role,
      );
      return token;
    },
    async gql(token, query, variables) {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      return { status: res.status, ...(body as object) } as never;
    },
    async stop() {
      await app.close();
      await db.drop();
      rmSync(storageDir, { recursive: true, force: true });
    },
  };
}

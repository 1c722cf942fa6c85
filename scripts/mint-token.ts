/**
 * Mints a bearer token for a user, creating the user when missing: the documented way to get the
 * first admin token on a production database.
 *
 *   npm run token:mint -- --email admin@hospital.org --role ADMIN [--ttl 86400]
 *
 * With the embedded database (no DATABASE_URL) stop the server first: PGlite's files belong to one
 * process at a time. The embedded server also writes a first admin token to data/bootstrap-admin.token.
 * Tokens are signed as the server signs them: with AUTH_SECRET, or without it with the install's own
 * secret (DATA_DIR/auth-secret, the same file the server reads). This is also how clinical users
 * (technicians, radiologists, integrators) get tokens: the API never mints them (see UserService.issueToken).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/app-config';
import { resolveAuthSecret } from '../src/auth/install-secret';
import { TokenService } from '../src/auth/token.service';
import { createOrm, migrateToLatest } from '../src/db/orm';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { Role } from '../src/domain/enums';
import { UserService } from '../src/domain/user/user.service';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      role: { type: 'string', default: 'ADMIN' },
      ttl: { type: 'string' },
    },
  });
  const role = values.role as Role;
  if (!values.email || !/^[^@\s]+@[^@\s]+$/.test(values.email) || !Object.values(Role).includes(role)) {
    console.error(
      `usage: npm run token:mint -- --email <e-mail> --role ${Object.values(Role).join('|')} [--ttl seconds]`,
    );
    process.exit(2);
  }
  const config = loadConfig();
  const embedded = config.database.url ? null : await startEmbeddedPostgres(config.database.embeddedDir);
  const orm = await createOrm({ url: config.database.url ?? embedded!.url, poolMax: 2 });
  try {
    await migrateToLatest(orm);
    // The same key as the server: AUTH_SECRET, or this install's own secret under DATA_DIR.
    const tokens = new TokenService(
      resolveAuthSecret(config.auth),
      config.auth.issuer,
      config.auth.tokenTtlSeconds,
      config.auth.audience,
    );
    const users = new UserService(orm.em, tokens, 1);
    const ttl = values.ttl ? Number(values.ttl) : undefined;
    const { token, user, created } = await users.bootstrapAdmin(values.email, role, ttl);
    if (user.role !== role)
      console.error(`note: ${user.email} already exists with role ${user.role}; the token carries that role`);
    console.log(JSON.stringify({ userId: user.id, email: user.email, role: user.role, created, token }));
  } finally {
    await orm.close(true);
    await embedded?.stop();
  }
}

void main();

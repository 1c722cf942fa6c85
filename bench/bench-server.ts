/** The API under benchmark: a fresh database with a technician and a radiologist, the server in its own process. */
import { TokenService } from '../src/auth/token.service';
import { createOrm, migrateToLatest } from '../src/db/orm';
import { Role } from '../src/domain/enums';
import { User } from '../src/domain/user/user.entity';
import { createTestDatabase } from '../test/support/test-database';
import { startServerProcess } from '../test/support/server-process';

const SECRET = 'bench-secret-bench-secret-bench-secret-00';

/** Starts the server (no rate limit, no job workers) on a new database; `stop` also drops it. */
export async function startBenchServer(name: string, env: Record<string, string> = {}) {
  if (!process.env.DATABASE_URL) process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = await createTestDatabase();
  const orm = await createOrm({ url: db.url, poolMax: 2 });
  await migrateToLatest(orm);
  const em = orm.em.fork();
  const user = (role: Role, email: string) =>
    em.create(User, { email, displayName: role, role, active: true } as User);
  const tech = user(Role.TECHNICIAN, 'tech@bench');
  const rad = user(Role.RADIOLOGIST, 'rad@bench');
  await em.flush();
  const tokens = new TokenService(SECRET, 'care-companion', 3600);
  const techToken = (await tokens.mint(tech.id, Role.TECHNICIAN)).token;
  const radToken = (await tokens.mint(rad.id, Role.RADIOLOGIST)).token;
  await orm.close(true);
  const server = await startServerProcess({
    DATABASE_URL: db.url,
    AUTH_SECRET: SECRET,
    RATE_LIMIT_PER_MINUTE: '0',
    ANALYSIS_WORKERS: '0',
    STORAGE_FS_DIR: `/tmp/cc-bench-${name}-${process.pid}`,
    ...env,
  });
  return {
    server,
    techToken,
    radToken,
    stop: async () => {
      await server.stop();
      await db.drop();
    },
  };
}

/**
 * The principal cache: an authenticated user's role is reused for AUTH_PRINCIPAL_CACHE_MS instead of
 * one database read per request, and deactivation still takes effect at once — in the process that
 * made it and, through PostgreSQL NOTIFY, in every other process on the database.
 */
import { Role } from '../../src/domain/enums';
import { UserService } from '../../src/domain/user/user.service';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const USER_READ = /from "app_user"/;

describe('principal cache', () => {
  const ready = requireOrSkip(
    Boolean(process.env.DATABASE_URL),
    'a real PostgreSQL (LISTEN/NOTIFY across processes)',
  );
  let a: TestApp;
  let b: TestApp;
  const sqlB: string[] = [];

  beforeAll(async () => {
    if (!ready) return;
    a = await startTestApp({ AUTH_PRINCIPAL_CACHE_MS: '60000' });
    // A second app (another "process") on the same database and the same NOTIFY channel.
    b = await startTestApp(
      { AUTH_PRINCIPAL_CACHE_MS: '60000', DATABASE_URL: a.db.url },
      { onQuery: (sql) => sqlB.push(sql) },
    );
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('reads a user once, then serves its later requests from the cache', async () => {
    if (!ready) return;
    const token = await a.tokenFor(Role.RADIOLOGIST);
    sqlB.length = 0;
    const first = await b.app.users.authenticate(token);
    const second = await b.app.users.authenticate(token);
    expect(second).toEqual(first);
    expect(first.role).toBe(Role.RADIOLOGIST);
    expect(sqlB.filter((s) => USER_READ.test(s))).toHaveLength(1);
  });

  it('reads every time when the cache is off', async () => {
    if (!ready) return;
    const token = await a.tokenFor(Role.RADIOLOGIST);
    const uncached = new UserService(b.app.orm.em, b.app.tokens, 10, 0);
    sqlB.length = 0;
    await uncached.authenticate(token);
    await uncached.authenticate(token);
    expect(sqlB.filter((s) => USER_READ.test(s))).toHaveLength(2);
  });

  it('refuses a deactivated user at once in the deactivating process and promptly in another one', async () => {
    if (!ready) return;
    const admin = await a.tokenFor(Role.ADMIN);
    const { token, user } = await a.app.users.bootstrapAdmin(`cached-${process.pid}@test`, Role.RADIOLOGIST);
    // Both processes have it cached (for a minute).
    await a.app.users.authenticate(token);
    await b.app.users.authenticate(token);
    // Over HTTP a cached principal is answered without waiting (authenticateCached).
    expect(b.app.users.authenticateCached(token)).toMatchObject({ role: Role.RADIOLOGIST });
    expect((await b.gql(token, '{ __typename }')).status).toBe(200);
    const off = await a.gql(admin, 'mutation($id: ID!) { deactivateUser(id: $id) { active } }', {
      id: user.id,
    });
    expect(off.errors).toBeUndefined();
    await expect(a.app.users.authenticate(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(a.app.users.authenticateCached(token)).toBeNull();
    expect((await a.gql(token, '{ __typename }')).status).toBe(401);
    // The other process learns it through NOTIFY, long before its 60 s cache entry would expire.
    const deadline = Date.now() + 5000;
    let refusedAfterMs: number | null = null;
    const started = Date.now();
    while (Date.now() < deadline) {
      const ok = await b.app.users.authenticate(token).then(
        () => true,
        () => false,
      );
      if (!ok) {
        refusedAfterMs = Date.now() - started;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(refusedAfterMs).not.toBeNull();
    expect(b.app.users.authenticateCached(token)).toBeNull();
    expect((await b.gql(token, '{ __typename }')).status).toBe(401);
  });
});

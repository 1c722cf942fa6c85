import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Role } from '../../src/domain/enums';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const run = promisify(execFile);

describe('minting the first admin token (npm run token:mint)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.stop());

  const mint = (args: string[]) =>
    run(process.execPath, ['-r', '@swc-node/register', 'scripts/mint-token.ts', ...args], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: t.db.url,
        AUTH_SECRET: 'test-secret-test-secret-test-secret-0123',
      },
    });

  it('creates the admin once and prints a token the API accepts', async () => {
    // The embedded test database lives inside this jest process; the script needs a server of its own.
    if (!requireOrSkip(t.db.real, 'token:mint against a real PostgreSQL (DATABASE_URL)')) return;
    const first = JSON.parse(
      (await mint(['--email', 'root@hospital.test', '--role', 'ADMIN'])).stdout.trim().split('\n').pop()!,
    );
    expect(first).toMatchObject({ email: 'root@hospital.test', role: Role.ADMIN, created: true });
    const second = JSON.parse(
      (await mint(['--email', 'root@hospital.test', '--role', 'ADMIN'])).stdout.trim().split('\n').pop()!,
    );
    expect(second).toMatchObject({ userId: first.userId, created: false });
    const me = await t.gql<{ me: { email: string; role: string } }>(second.token, '{ me { email role } }');
    expect(me.data!.me).toEqual({ email: 'root@hospital.test', role: 'ADMIN' });
    const users = await t.gql(second.token, '{ users(first: 5) { totalCount } }');
    expect(users.errors).toBeUndefined();
  }, 60_000);

  it('refuses bad arguments with exit code 2', async () => {
    await expect(mint(['--email', 'not-an-email', '--role', 'ADMIN'])).rejects.toMatchObject({ code: 2 });
    await expect(mint(['--email', 'a@b.c', '--role', 'SUPERUSER'])).rejects.toMatchObject({ code: 2 });
  }, 60_000);
});

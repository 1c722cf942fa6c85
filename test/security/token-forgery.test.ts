/**
 * H1, a default install anyone on the network could take over. Regressions: tokens were signed with
 * DEVELOPMENT_AUTH_SECRET, a string in the source, and a default `npm start` listened on 0.0.0.0;
 * with a user id (INTEGRATORs can read them) anyone who reached the port could sign an ADMIN token.
 * A token without `exp` was accepted forever, and `aud` was not checked.
 *
 * Runs `scripts/start.js` (what `npm start` runs) with nothing configured but a fresh DATA_DIR and
 * port 0 (and fewer worker threads, which change nothing here).
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { requireOrSkip } from '../support/test-database';

const ROOT = join(__dirname, '..', '..');
/** The signing secret every install shared until this fix (it was in src/config/app-config.ts). */
const FORMER_DEVELOPMENT_SECRET = 'care-companion-development-secret-not-for-production';

let dataDir: string;
let server: ChildProcess;
let url: string;
let port: number;
const logs: string[] = [];

/** The environment of a default start: nothing configured (no NODE_ENV, HOST, AUTH_SECRET, DATABASE_URL). */
const defaults = () => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? tmpdir(),
  DATA_DIR: dataDir,
  PORT: '0',
  ENGINE_INSTANCES: '1',
  DECODE_WORKERS: '1',
  ANALYSIS_WORKERS: '0',
  RETRAIN_WORKERS: '0',
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cc-default-install-'));
  server = spawn(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
    cwd: ROOT,
    env: defaults(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: server.stderr! }).on('line', (line) => logs.push(line));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready:\n${logs.join('\n')}`)), 150_000);
    server.once('exit', (code) => reject(new Error(`exited ${code}:\n${logs.join('\n')}`)));
    createInterface({ input: server.stdout! }).on('line', (line) => {
      logs.push(line);
      if (!line.includes('Care Companion API ready')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url.replace(/\/graphql$/, ''));
    });
  });
  port = Number(new URL(url).port);
}, 180_000);

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const bootstrapToken = () => readFileSync(join(dataDir, 'bootstrap-admin.token'), 'utf8').trim();
const installSecret = () => readFileSync(join(dataDir, 'auth-secret'), 'utf8').trim();

async function me(token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { id role } }' }),
  });
  return { status: res.status, body: await res.json() };
}

function reachable(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('a default npm start', () => {
  it('listens on loopback only: another host cannot reach it', async () => {
    expect(new URL(url).hostname).toBe('127.0.0.1');
    expect(await reachable('127.0.0.1')).toBe(true);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (!requireOrSkip(Boolean(external), 'a non-loopback network interface on this machine')) return;
    // This machine's own address on the network: the way another host would come in.
    expect(await reachable(external!.address)).toBe(false);
  });

  it('signs with a random secret of its own, kept readable by its owner only in the data directory', async () => {
    const file = join(dataDir, 'auth-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(installSecret()).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const res = await me(bootstrapToken());
    expect(res.status).toBe(200);
    expect(res.body.data.me.role).toBe('ADMIN');
  });

  it('refuses an ADMIN token signed with the former development secret from the source', async () => {
    const admin = (await me(bootstrapToken())).body.data.me.id as string;
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ role: 'ADMIN' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(admin)
      .setIssuer('care-companion')
      .setAudience('care-companion-api')
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(FORMER_DEVELOPMENT_SECRET));
    const res = await me(forged);
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a correctly signed token without exp, without aud, or for another audience', async () => {
    const admin = (await me(bootstrapToken())).body.data.me.id as string;
    const key = new TextEncoder().encode(installSecret());
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ role: 'ADMIN', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const complete = {
      sub: admin,
      iss: 'care-companion',
      aud: 'care-companion-api',
      jti: randomUUID(),
      iat: now,
      exp: now + 600,
    };
    expect((await me(await sign(complete))).status).toBe(200); // control
    const { exp: _exp, ...forever } = complete;
    const { aud: _aud, ...anyAudience } = complete;
    for (const [what, claims] of [
      ['no exp', forever],
      ['no aud', anyAudience],
      ['another audience', { ...complete, aud: 'some-other-service' }],
    ] as const) {
      const res = await me(await sign({ ...claims, jti: randomUUID() }));
      expect([what, res.status, res.body.errors?.[0]?.extensions?.code]).toEqual([
        what,
        401,
        'UNAUTHENTICATED',
      ]);
    }
  });

  it('stops on SIGTERM, and npm run token:mint then signs with the same per-install secret', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        join(ROOT, 'scripts', 'mint-token.ts'),
        '--email',
        'rad@hospital.test',
        '--role',
        'RADIOLOGIST',
      ],
      { cwd: ROOT, env: { ...defaults(), NODE_OPTIONS: '' } },
    );
    const { token } = JSON.parse(stdout.trim().split('\n').pop()!) as { token: string };
    const { payload } = await jwtVerify(token, new TextEncoder().encode(installSecret()), {
      issuer: 'care-companion',
      audience: 'care-companion-api',
    });
    expect(payload).toMatchObject({ role: 'RADIOLOGIST' });
    expect(decodeJwt(token).exp).toBeGreaterThan(Date.now() / 1000);
  }, 120_000);
});

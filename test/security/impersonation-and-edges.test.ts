/**
 * L1, the smaller openings. Regressions: an ADMIN could `issueToken` for a radiologist (30 days) and
 * read patient data through it, against "admins: no patient data"; DateTime literals echoed the
 * input into errors; production served `/metrics` (per-label prediction counts: at a small site,
 * diagnoses) without a token; unauthenticated slow-header connections were held ~64 s each, with no
 * cap; the dashboard's CSP let scripts open sockets to any host (`connect-src ws: wss:`); and SIGTERM
 * hung over 30 s while a WebSocket peer ignored the close.
 */
import { connect, Socket } from 'node:net';
import { ConfigError, loadConfig } from '../../src/config/app-config';
import { Role } from '../../src/domain/enums';
import type { TestApp } from '../support/test-app';
import { startLightApp } from './light-app';

const PHI = ['Vexmorrow', '1937'];

let t: TestApp;
let admin: string;

beforeAll(async () => {
  t = await startLightApp({ METRICS_TOKEN: 'scrape-token-0123456789' });
  admin = await t.tokenFor(Role.ADMIN);
});
afterAll(async () => t?.stop());

/** Opens a raw TCP connection to an app and resolves once connected. */
function rawSocket(app: TestApp): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: app.app.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves true once the server ends `socket`, false if it is still open after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => undefined);
    socket.resume();
  });
}

describe('no impersonation of clinical users', () => {
  it('refuses to mint a token for a radiologist, technician or integrator, and mints one for an admin', async () => {
    for (const role of [Role.RADIOLOGIST, Role.TECHNICIAN, Role.INTEGRATOR]) {
      const { user } = await t.app.users.bootstrapAdmin(`${role.toLowerCase()}-target@test`, role);
      const res = await t.gql<{ issueToken: { token: string } }>(
        admin,
        'mutation($id: ID!) { issueToken(input: {userId: $id, ttlSeconds: 2592000}) { token } }',
        { id: user.id },
      );
      expect([
        role,
        res.errors?.map((e) => e.extensions?.code),
        res.errors?.[0]?.extensions?.details,
      ]).toEqual([role, ['FORBIDDEN'], { reason: 'CLINICAL_USER', role }]);
      expect(res.data).toBeNull();
    }
    const { user } = await t.app.users.bootstrapAdmin('second-admin@test', Role.ADMIN);
    const ok = await t.gql<{ issueToken: { token: string } }>(
      admin,
      'mutation($id: ID!) { issueToken(input: {userId: $id}) { token } }',
      { id: user.id },
    );
    expect(ok.errors).toBeUndefined();
    expect((await t.gql(ok.data!.issueToken.token, '{ me { role } }')).data).toEqual({
      me: { role: 'ADMIN' },
    });
  });
});

describe('date-times', () => {
  it('never echo a refused literal, and refuse year 0 at the edge instead of failing in the database', async () => {
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const literal = await t.gql(
      tech,
      '{ patients(filter: { createdAt: { from: "Vexmorrow 1937-03-29" } }) { totalCount } }',
    );
    expect(literal.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(PHI.filter((v) => JSON.stringify(literal.errors).includes(v))).toEqual([]);
    for (const from of ['0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z']) {
      const res = await t.gql(
        tech,
        'query($f: DateTimeISO) { patients(filter: { createdAt: { from: $f } }) { totalCount } }',
        {
          f: from,
        },
      );
      expect([from, res.status, res.errors?.map((e) => e.extensions?.code)]).toEqual([
        from,
        400,
        ['BAD_USER_INPUT'],
      ]);
    }
  });
});

describe('/metrics', () => {
  it('needs a token by default in production', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://care@db:5432/care',
      AUTH_SECRET: 'Zq3vN8tLw1pR6yK0sB5mH2cJ9dF4gX7e',
    };
    expect(() => loadConfig(production)).toThrow(ConfigError);
    expect(() => loadConfig(production)).toThrow(/METRICS_TOKEN: is required in production/);
    expect(
      loadConfig({ ...production, METRICS_TOKEN: 'scrape-token-0123456789' }).monitoring.metricsToken,
    ).toBe('scrape-token-0123456789');
  });

  it('answers a scrape without the token with 401', async () => {
    expect((await fetch(`${t.app.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${t.app.url}/metrics`, {
      headers: { authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(res.status).toBe(200);
    await res.text();
  });
});

describe('the dashboard', () => {
  it('lets its page connect to its own origin only', async () => {
    const res = await fetch(`${t.app.url}/dashboard`);
    await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    const connect = csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .find(([name]) => name === 'connect-src');
    expect(connect).toEqual(['connect-src', "'self'"]);
  });
});

describe('connections', () => {
  it('closes a connection whose headers never finish after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const slow = await startLightApp({ HTTP_HEADERS_TIMEOUT_MS: '1000' });
    try {
      const socket = await rawSocket(slow);
      socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      expect(await closedWithin(socket, 10_000)).toBe(true);
    } finally {
      await slow.stop();
    }
  });

  it('refuses connections beyond HTTP_MAX_CONNECTIONS, and serves again once they close', async () => {
    const capped = await startLightApp({ HTTP_MAX_CONNECTIONS: '16' });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        const s = await rawSocket(capped);
        s.write('GET /health/live HTTP/1.1\r\nHost: x\r\n'); // never finished
        held.push(s);
      }
      const extra = await rawSocket(capped);
      expect(await closedWithin(extra, 5000)).toBe(true);
      expect(held.filter((s) => s.destroyed)).toEqual([]);
      for (const s of held) s.destroy();
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 200; attempt++)
        status = await fetch(`${capped.app.url}/health/live`).then(
          (r) => r.status,
          () => 0,
        );
      expect(status).toBe(200);
    } finally {
      for (const s of held) s.destroy();
      await capped.stop();
    }
  });

  it('shuts down promptly while a WebSocket peer ignores the close frame and another dawdles over headers', async () => {
    const app = await startLightApp();
    const silent = await rawSocket(app);
    const upgraded = new Promise<void>((resolve) => silent.once('data', () => resolve()));
    silent.write(
      'GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n',
    );
    await upgraded; // 101: the socket is a WebSocket that will never answer anything
    const dawdler = await rawSocket(app);
    dawdler.write('GET /graphql HTTP/1.1\r\nHost: x\r\n');
    const stopped = app.stop().then(() => true);
    const bound = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref());
    try {
      expect(await Promise.race([stopped, bound])).toBe(true);
    } finally {
      silent.destroy();
      dawdler.destroy();
      await stopped;
    }
  }, 60_000);
});

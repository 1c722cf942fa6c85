/**
 * Liveness and readiness with real parts: PostgreSQL behind a TCP forwarder that the test cuts,
 * MinIO's API served by s3rver that the test stops, and the real engine with a model unloaded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExposition, sampleValue } from '../support/prometheus-text';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';
import { shippedVersion } from '../support/model-repository';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
}) => S3rverInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverCtor;

interface ReadyBody {
  status: string;
  checks: Record<string, string>;
}

/** Polls readiness until `accept` holds, at most `ms`. */
async function readyUntil(url: string, accept: (status: number, body: ReadyBody) => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  let last: { status: number; body: ReadyBody } | null = null;
  for (;;) {
    const res = await fetch(`${url}/health/ready`);
    last = { status: res.status, body: (await res.json()) as ReadyBody };
    if (accept(last.status, last.body)) return last;
    if (Date.now() > end) throw new Error(`readiness never matched; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('health probes', () => {
  const real = requireOrSkip(
    Boolean(process.env.DATABASE_URL),
    'a real PostgreSQL (DATABASE_URL) to cut off',
  );
  let db: TestDatabase;
  let proxy: TcpProxy;
  let s3: S3rverInstance;
  let s3Port: number;
  let s3Dir: string;
  let t: TestApp;

  beforeAll(async () => {
    if (!real) return;
    db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    s3Dir = mkdtempSync(join(tmpdir(), 'cc-s3rver-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
    s3Port = (await s3.run()).port;
    t = await startTestApp({
      DATABASE_URL: viaProxy.toString(),
      // LISTEN/NOTIFY would hold a connection through the forwarder; this file tests the probes only.
      PUBSUB_DRIVER: 'memory',
      ANALYSIS_WORKERS: '0',
      STORAGE_DRIVER: 'minio',
      MINIO_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      MINIO_ACCESS_KEY: 'S3RVER',
      MINIO_SECRET_KEY: 'S3RVER',
      HEALTH_CHECK_TIMEOUT_MS: '1000',
      // No periodic reconcile: the test unloads a model itself and checks readiness before reloading it.
      MODEL_RECONCILE_INTERVAL_MS: '0',
    });
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.stop();
    await s3?.close().catch(() => undefined);
    await db?.drop();
    if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
  });

  it('is ready with the database, the object store and an active model for every task', async () => {
    if (!real) return;
    const res = await fetch(`${t.app.url}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        objectStore: 'ok',
        models: expect.stringContaining(`chest@${await shippedVersion('chest')}* on cpu`),
        activeModels: 'ok',
      },
    });
    expect((await fetch(`${t.app.url}/health/live`)).status).toBe(200);
  });

  it('database down: not ready (live stays up, /metrics still answers), ready again once it is back', async () => {
    if (!real) return;
    await proxy.cut();
    const down = await readyUntil(t.app.url, (s) => s === 503);
    expect(down.body).toMatchObject({
      status: 'not ready',
      checks: { database: 'unavailable', objectStore: 'ok' },
    });
    expect((await fetch(`${t.app.url}/health/live`)).status).toBe(200);
    const scrape = await fetch(`${t.app.url}/metrics`);
    expect(scrape.status).toBe(200);
    const e = parseExposition(await scrape.text());
    expect(
      sampleValue(e, 'care_companion_metrics_collect_errors_total', { source: 'jobs' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(e, 'care_companion_model_loaded', { task: 'chest' })).toBe(1);
    await proxy.restore();
    const back = await readyUntil(t.app.url, (s) => s === 200);
    expect(back.body.checks.database).toBe('ok');
  });

  it('object store down: not ready, ready again once it is back', async () => {
    if (!real) return;
    await s3.close();
    const down = await readyUntil(t.app.url, (s) => s === 503);
    expect(down.body.checks).toMatchObject({
      database: 'ok',
      objectStore: 'unavailable',
      activeModels: 'ok',
    });
    s3 = new S3rver({ address: '127.0.0.1', port: s3Port, silent: true, directory: s3Dir });
    await s3.run();
    await readyUntil(t.app.url, (s, b) => s === 200 && b.checks.objectStore === 'ok');
  });

  it('no active model for a task: not ready until a version is loaded again', async () => {
    if (!real) return;
    await t.app.engine.unloadVersion('wrist', 'v1');
    const res = await fetch(`${t.app.url}/health/ready`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as ReadyBody;
    expect(body.checks).toMatchObject({ database: 'ok', objectStore: 'ok', activeModels: 'missing: wrist' });
    expect(body.checks.models).not.toMatch(/wrist/);
    await t.app.engine.loadVersion('wrist', 'v1', join(t.app.config.modelsDir, 'wrist', 'v1'));
    const again = await fetch(`${t.app.url}/health/ready`);
    expect(again.status).toBe(200);
  });
});

/**
 * What monitoring costs. In process: the observer calls one analysed request makes (engine request,
 * batch, prediction, HTTP and GraphQL observations) against the same calls on no-op observers, and one
 * render of a registry filled with realistic series. Over HTTP, on a real server process: GET /metrics
 * (which reads the job queue state from PostgreSQL) against GET /health/live on the same server.
 * Writes bench/results/metrics.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GateVerdict } from '../src/domain/enums';
import { Metrics } from '../src/monitoring/metrics';
import { startServerProcess } from '../test/support/server-process';
import { createTestDatabase } from '../test/support/test-database';
import { median, quantile, r2, r3 } from './bench-utils';

const CALLS = 200_000;
const RENDERS = 200;
const SCRAPES = 200;
const TOKEN = 'bench-scrape-token-0123456789';

type Observers = Pick<Metrics, 'inference' | 'analysis' | 'http' | 'graphql'>;

/** The observations one synchronous analysis makes. */
function oneRequest(o: Observers, i: number): void {
  const task = i % 2 ? 'chest' : 'wrist';
  const version = i % 3 ? 'v1' : 'v2';
  o.inference.batchFinished({ task, version, size: 1 + (i % 16), durationMs: 40 + (i % 7), ok: true });
  o.inference.requestFinished({
    task,
    version,
    outcome: 'ok',
    timings: { queueMs: i % 11, inferenceMs: 40 + (i % 7), batchSize: 1 + (i % 16) },
  });
  o.analysis.predictionRecorded({
    task,
    version,
    route: 'PRODUCTION',
    label: i % 5 ? 'NORMAL' : 'PNEUMONIA',
    gateVerdict: i % 9 ? GateVerdict.ACCEPTED : GateVerdict.NOT_A_RADIOGRAPH,
    totalMs: 80 + (i % 13),
  });
  o.graphql.operationFinished({ type: 'mutation', operation: 'analyzeStudy', outcome: 'ok', durationMs: 90 });
  o.http.requestFinished({ method: 'POST', route: '/graphql', status: 200, durationMs: 91 });
}

const NOOP: Observers = {
  inference: { requestFinished: () => undefined, batchFinished: () => undefined },
  analysis: { predictionRecorded: () => undefined },
  graphql: { operationFinished: () => undefined },
  http: { requestFinished: () => undefined },
};

function perCallNs(o: Observers): number {
  for (let i = 0; i < 10_000; i++) oneRequest(o, i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) oneRequest(o, i);
  return Number(process.hrtime.bigint() - t0) / CALLS;
}

async function timeRequests(url: string, headers: Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SCRAPES + 10; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    if (i >= 10) out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const metrics = new Metrics();
  const noopNs = perCallNs(NOOP);
  const observedNs = perCallNs(metrics);
  const renders: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RENDERS; i++) {
    const t0 = performance.now();
    bytes = (await metrics.render()).length;
    renders.push(performance.now() - t0);
  }

  if (!process.env.DATABASE_URL) process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = await createTestDatabase();
  const server = await startServerProcess({
    DATABASE_URL: db.url,
    AUTH_SECRET: 'bench-secret-bench-secret-bench-secret-01',
    METRICS_TOKEN: TOKEN,
    ANALYSIS_WORKERS: '1',
    STORAGE_FS_DIR: `/tmp/cc-bench-metrics-${process.pid}`,
  });
  try {
    const live = await timeRequests(`${server.url}/health/live`, {});
    const scrape = await timeRequests(`${server.url}/metrics`, { authorization: `Bearer ${TOKEN}` });
    const report = {
      inProcess: {
        observerCallsPerAnalysedRequest: 5,
        nsPerRequestNoop: r2(noopNs),
        nsPerRequestPromClient: r2(observedNs),
        addedMicrosecondsPerRequest: r3((observedNs - noopNs) / 1000),
        renderMsP50: r3(median(renders)),
        renderBytes: bytes,
      },
      overHttp: {
        requests: SCRAPES,
        healthLiveMsP50: r2(median(live)),
        healthLiveMsP95: r2(quantile(live, 0.95)),
        metricsMsP50: r2(median(scrape)),
        metricsMsP95: r2(quantile(scrape, 0.95)),
        metricsOverLiveP50: r2(median(scrape) / median(live)),
      },
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'metrics.json'), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await server.stop();
    await db.drop();
  }
}

void main();

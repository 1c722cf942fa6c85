/**
 * What the API adds to an analysis: `node -r @swc-node/register bench/graphql-overhead.bench.ts`
 * (needs PostgreSQL, the shared data and the shipped models).
 *
 * One app in this process, one real chest JPEG study. Each round measures, one after the other with a
 * short pause between calls (so what one call leaves running in the background is not charged to the
 * next) and service / full stack in alternating order:
 *  - engine: `engine.infer` on the prepared tensor (the model alone);
 *  - service: `AnalysisService.analyzeStudy` called directly (reads, decode, inference, heatmap, the
 *    transaction storing prediction and audit event) — the same work without HTTP or GraphQL;
 *  - full stack: the same `analyzeStudy` mutation over HTTP (keep-alive client, bearer token);
 *  - empty: an authenticated `{ __typename }` over HTTP.
 * The GraphQL overhead is full stack − service (goal < 1 ms). Writes bench/results/graphql-overhead.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Role } from '../src/domain/enums';
import { createRequestContext } from '../src/domain/shared/request-context';
import { attach, createPatient, createStudy } from '../test/support/clinical-fixtures';
import { startTestApp } from '../test/support/test-app';
import { median, r3 } from './bench-utils';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const FILM = 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(base: string, token: string, body: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${base}/graphql`);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
  const t = await startTestApp({ RATE_LIMIT_PER_MINUTE: '0', ANALYSIS_WORKERS: '0' });
  try {
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const rad = await t.tokenFor(Role.RADIOLOGIST);
    const principal = await t.app.users.authenticate(rad);
    const patientId = await createPatient(t, tech);
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, FILM, 'PA');
    const version = t.app.engine.activeVersion('chest')!;
    const size = t.app.engine.manifest('chest', version).input.size;
    const tensor = new Float32Array(size * size).fill(0.1);

    const mutation = JSON.stringify({
      query: 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id gateVerdict timings } }',
      variables: { s: studyId },
    });
    const empty = JSON.stringify({ query: '{ __typename }' });
    const samples = {
      engine: [] as number[],
      service: [] as number[],
      full: [] as number[],
      empty: [] as number[],
    };
    // Work an analysis leaves behind (events, drift bookkeeping, file syncs) must not land in the next
    // measurement: pause between calls, and alternate which of service / full stack goes first.
    const pause = () => new Promise((r) => setTimeout(r, 25));
    const timed = async (fn: () => Promise<unknown>): Promise<number> => {
      await pause();
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const viaService = () =>
      t.app.analysis.analyzeStudy(createRequestContext(t.app.orm.em, principal, 'bench'), studyId);
    const viaHttp = async () => {
      const r = await post(t.app.url, rad, mutation);
      if (!r.data) throw new Error(`analyzeStudy failed: ${JSON.stringify(r.errors)}`);
    };
    for (let round = -20; round < ROUNDS; round++) {
      const engine = await timed(() =>
        t.app.engine.infer({ task: 'chest', version, views: [tensor.slice()], priority: 'ROUTINE' }),
      );
      let service: number;
      let full: number;
      if (round % 2 === 0) {
        service = await timed(viaService);
        full = await timed(viaHttp);
      } else {
        full = await timed(viaHttp);
        service = await timed(viaService);
      }
      const none = await timed(() => post(t.app.url, rad, empty));
      if (round < 0) continue; // warm-up
      samples.engine.push(engine);
      samples.service.push(service);
      samples.full.push(full);
      samples.empty.push(none);
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, r3(median(v))])) as Record<
      keyof typeof samples,
      number
    >;
    const diffs = samples.full.map((f, i) => f - samples.service[i]!);
    const report = {
      rounds: ROUNDS,
      film: FILM,
      medianMs: m,
      graphqlOverheadMs: r3(median(diffs)),
      serviceBeyondEngineMs: r3(m.service - m.engine),
      goalGraphqlOverheadMs: 1,
    };
    console.log(
      `engine alone                  ${m.engine.toFixed(3)} ms (model inference through the batching engine)`,
    );
    console.log(
      `service alone                 ${m.service.toFixed(3)} ms (+ reads, decode, heatmap, transaction)`,
    );
    console.log(`full stack over HTTP          ${m.full.toFixed(3)} ms`);
    console.log(`empty authenticated request   ${m.empty.toFixed(3)} ms`);
    console.log(
      `GraphQL + HTTP overhead       ${report.graphqlOverheadMs.toFixed(3)} ms (median of paired differences; goal < 1 ms)`,
    );
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results', 'graphql-overhead.json'),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    console.log('wrote bench/results/graphql-overhead.json');
  } finally {
    agent.destroy();
    await t.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/**
 * End-to-end benchmark over HTTP with real radiographs: `node -r @swc-node/register bench/e2e.bench.ts`
 * (needs DATABASE_URL or a local PostgreSQL on 127.0.0.1:5432, the shared data and the shipped models).
 *
 * Starts one API server process, seeds studies with real chest JPEGs, then measures `analyzeStudy`
 * over HTTP with autocannon at concurrency 1, 16 and 100 (p50/p99 latency, images per minute), fires
 * 1,000 requests at once (every answer must be a prediction or an explicit QUEUE_FULL), and compares
 * the client-side latency at concurrency 1 with the analysis time the server measured itself
 * (`timings.totalMs`, from fetching the film to the built prediction): the rest is the database reads
 * before it and the commit after it, HTTP + GraphQL, and the client (bench/graphql-overhead.bench.ts
 * separates the API's own part). Writes bench/results/e2e.json.
 */
import 'reflect-metadata';
import { startBenchServer } from './bench-server';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';

const SHARED = process.env.CARE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const STUDIES = Number(process.env.BENCH_STUDIES ?? 60);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as {
    data?: Record<string, { id: string; timings?: Record<string, number> }>;
    errors?: { extensions?: { code?: string } }[];
  };
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const { server, techToken, radToken, stop } = await startBenchServer('e2e');
  const url = server.url;
  try {
    const dir = join(SHARED, 'datasets', 'chest', 'kermany', 'test', 'NORMAL');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.jpeg'))
      .slice(0, STUDIES);
    const patient = await gql(
      url,
      techToken,
      'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
      {
        i: { mrn: 'BENCH-1', givenName: 'Bench', familyName: 'Mark' },
      },
    );
    const patientId = patient.data!.createPatient.id;
    const studyIds: string[] = [];
    for (const [i, f] of files.entries()) {
      const s = await gql(
        url,
        techToken,
        'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
        {
          i: { patientId, bodyPart: 'CHEST', accessionNumber: `BENCH-${i}` },
        },
      );
      const up = (await (
        await fetch(`${url}/uploads`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${techToken}` },
          body: readFileSync(join(dir, f)),
        })
      ).json()) as { uploadId: string };
      await gql(url, techToken, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
        i: { studyId: s.data!.createStudy.id, uploadId: up.uploadId, view: 'PA' },
      });
      studyIds.push(s.data!.createStudy.id);
    }
    const query = 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id gateVerdict timings } }';
    // warm-up
    for (const s of studyIds.slice(0, 5)) await gql(url, radToken, query, { s });

    // At concurrency 1: client latency minus the analysis time the server measured (timings.totalMs).
    const overhead: number[] = [];
    const client: number[] = [];
    const server: Record<string, number[]> = {};
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const r = await gql(url, radToken, query, { s: studyIds[i % studyIds.length] });
      const ms = performance.now() - t0;
      client.push(ms);
      overhead.push(ms - (r.data!.analyzeStudy.timings!.totalMs ?? 0));
      for (const [k, v] of Object.entries(r.data!.analyzeStudy.timings!)) (server[k] ??= []).push(v);
    }
    client.sort((a, b) => a - b);
    overhead.sort((a, b) => a - b);
    // The stack alone: an authenticated GraphQL request that resolves nothing.
    const empty: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await gql(url, radToken, '{ __typename }', {});
      empty.push(performance.now() - t0);
    }
    empty.sort((a, b) => a - b);

    const runs: Record<string, unknown>[] = [];
    for (const connections of [1, 16, 100]) {
      let next = 0;
      const result = await autocannon({
        url: `${url}/graphql`,
        connections,
        duration: DURATION,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${radToken}` },
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ query, variables: { s: studyIds[next++ % studyIds.length] } }),
            }),
          },
        ],
      });
      runs.push({
        connections,
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        latencyP50Ms: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        imagesPerMinute: Math.round((result.requests.total - result.non2xx) / (result.duration / 60)),
      });
      console.log(JSON.stringify(runs.at(-1)));
    }

    // 1,000 requests in flight at once.
    const codes: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        try {
          const r = await gql(url, radToken, query, { s: studyIds[i % studyIds.length] });
          const code = r.errors ? (r.errors[0].extensions?.code ?? 'UNKNOWN') : 'OK';
          codes[code] = (codes[code] ?? 0) + 1;
        } catch (error) {
          codes[`NETWORK:${(error as Error).message}`] =
            (codes[`NETWORK:${(error as Error).message}`] ?? 0) + 1;
        }
      }),
    );
    const report = {
      machine: '2 cores (shared), one API process, PostgreSQL on loopback',
      studies: studyIds.length,
      concurrency1: {
        clientP50Ms: pct(client, 0.5),
        outsideTimedAnalysisP50Ms: pct(overhead, 0.5),
        outsideTimedAnalysisP90Ms: pct(overhead, 0.9),
        serverTimingsP50Ms: Object.fromEntries(
          Object.entries(server).map(([k, v]) => [
            k,
            pct(
              v.sort((a, b) => a - b),
              0.5,
            ),
          ]),
        ),
        emptyGraphQLRequestP50Ms: pct(empty, 0.5),
      },
      runs,
      inFlight1000: codes,
      onlyExplicitRefusals: Object.keys(codes).every((c) => c === 'OK' || c === 'QUEUE_FULL'),
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'e2e.json'), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await stop();
  }
}

void main();

/**
 * What the API adds to an analysis: `node -r @swc-node/register bench/graphql-overhead.bench.ts`
 * (needs PostgreSQL, the shared data and the shipped models).
 *
 * One app in this process, one real chest JPEG study, and an HTTP client in a separate process
 * (bench/graphql-overhead-client.ts), as a hospital front-end would be. Each round, with a short pause
 * before each call (so what one call leaves running in the background is not charged to the next):
 *  - engine: `engine.infer` on the prepared tensor (the model alone);
 *  - service: `AnalysisService.analyzeStudy` called in-process (reads, decode, inference, heatmap,
 *    the transaction storing prediction and audit event): the same work without HTTP or GraphQL;
 *  - full stack: the `analyzeStudy` mutation over HTTP from the client process (keep-alive, bearer
 *    token); the client measures its round trip;
 *  - empty: an authenticated `{ __typename }` the same way.
 * Inside each full-stack request the server's own time is taken from Node's HTTP diagnostics channel
 * and `res.end` (request received → response handed to the socket) and the service's time from a
 * wrapper around
 * `analyzeStudy`. So, per request, with no pairing of separate calls:
 *  - API overhead on the server = server time − service time: authentication, context, body, parse,
 *    validation, execution, serialisation, writing (goal < 1 ms);
 *  - overhead seen by the client = round trip − service time (adds loopback TCP and the client's own
 *    request and parsing work).
 * Peer, in the same process and run: a bare Apollo Server (graphql-js schema from SDL, no plugins, no
 * authentication, audit, metrics, limits or type-graphql) on its own node:http port, whose
 * `analyzeStudy` resolver calls the same service. Its overhead is what Apollo and Node's HTTP cost on
 * this machine; ours minus its is what the product adds. Also an authenticated `{ __typename }` on
 * both, after the pause (cold: on a shared VM an idle core loses its caches) and back to back (warm).
 * Writes bench/results/graphql-overhead.json.
 */
import 'reflect-metadata';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { buildSchema } from 'graphql';
import { fork } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { AnalysisService } from '../src/domain/analysis/analysis.service';
import { Role } from '../src/domain/enums';
import { createRequestContext } from '../src/domain/shared/request-context';
import { attach, createPatient, createStudy } from '../test/support/clinical-fixtures';
import { startTestApp } from '../test/support/test-app';
import { median, quantile, r3 } from './bench-utils';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const FILM = 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg';

interface Answer {
  id: number;
  ms: number;
  status: number;
  json: { data?: unknown; errors?: unknown };
  error?: string;
}

/** The client process: one request at a time. */
function startClient() {
  const child = fork(join(__dirname, 'graphql-overhead-client.ts'), {
    execArgv: ['-r', '@swc-node/register'],
    stdio: 'inherit',
  });
  let next = 1;
  const waiting = new Map<number, (a: Answer) => void>();
  child.on('message', (a: Answer) => waiting.get(a.id)?.(a));
  return {
    post(url: string, token: string, body: string): Promise<Answer> {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, (a) => {
          waiting.delete(id);
          if (a.error) reject(new Error(a.error));
          else resolve(a);
        });
        child.send({ id, url, token, body });
      });
    },
    stop: () => child.disconnect(),
  };
}

/**
 * Times every HTTP request the server in this process handles: from its arrival (Node's
 * `http.server.request.start` diagnostics channel) to the call of `res.end` that hands the response to
 * the socket. (The channel's `response.finish` would come only after the write completes, a loop turn
 * later, and so would include whatever else runs in that turn.)
 */
function watchServer() {
  const started = new WeakMap<IncomingMessage, number>();
  let last = NaN;
  const onStart = (m: unknown) => started.set((m as { request: IncomingMessage }).request, performance.now());
  diagnostics.subscribe('http.server.request.start', onStart);
  const end = ServerResponse.prototype.end;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
    const t0 = started.get(this.req);
    if (t0 !== undefined) {
      last = performance.now() - t0;
      started.delete(this.req);
    }
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof end;
  return {
    /** Server time of the last answered request (ms). */
    take(): number {
      const v = last;
      last = NaN;
      return v;
    },
    stop() {
      diagnostics.unsubscribe('http.server.request.start', onStart);
      ServerResponse.prototype.end = end;
    },
  };
}

/**
 * The peer: bare Apollo Server over node:http, as in Apollo's integration guide, with one mutation
 * whose resolver runs the product's service. No plugins, no authentication, no limits.
 */
async function startBareApollo(run: (studyId: string) => ReturnType<AnalysisService['analyzeStudy']>) {
  const schema = buildSchema(`
    scalar JSON
    type Query { ok: Boolean }
    type Prediction { id: ID! gateVerdict: String! timings: JSON! }
    type Mutation { analyzeStudy(studyId: ID!): Prediction! }
  `);
  const rootValue = {
    analyzeStudy: async ({ studyId }: { studyId: string }) => {
      const { prediction } = await run(studyId);
      return { id: prediction.id, gateVerdict: prediction.gateVerdict, timings: prediction.timings };
    },
  };
  const apollo = new ApolloServer({ schema, rootValue, csrfPrevention: false });
  await apollo.start();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      void apollo
        .executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: req.method ?? 'POST',
            headers,
            search: '',
            body: JSON.parse(Buffer.concat(chunks).toString()),
          },
          context: async () => ({}),
        })
        .then((response) => {
          const out: Record<string, string> = {};
          for (const [k, v] of response.headers) out[k] = v;
          res.writeHead(response.status ?? 200, out);
          res.end(response.body.kind === 'complete' ? response.body.string : '');
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
  const t = await startTestApp({ RATE_LIMIT_PER_MINUTE: '0', ANALYSIS_WORKERS: '0' });
  const client = startClient();
  const server = watchServer();
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

    // The service's own time inside each request: a wrapper on this instance, nothing in the product.
    const analysis = t.app.analysis;
    const analyze = analysis.analyzeStudy.bind(analysis);
    let serviceMs = NaN;
    analysis.analyzeStudy = async (...args) => {
      const t0 = performance.now();
      try {
        return await analyze(...args);
      } finally {
        serviceMs = performance.now() - t0;
      }
    };

    const peer = await startBareApollo((id) =>
      analysis.analyzeStudy(createRequestContext(t.app.orm.em, principal, 'peer'), id),
    );
    const mutation = JSON.stringify({
      query: 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id gateVerdict timings } }',
      variables: { s: studyId },
    });
    const empty = JSON.stringify({ query: '{ __typename }' });
    const samples = {
      engine: [] as number[],
      service: [] as number[],
      fullRoundTrip: [] as number[],
      fullServer: [] as number[],
      serviceInsideRequest: [] as number[],
      serverOverhead: [] as number[],
      clientOverhead: [] as number[],
      emptyRoundTrip: [] as number[],
      emptyServer: [] as number[],
      peerFullServer: [] as number[],
      peerServerOverhead: [] as number[],
      peerEmptyServer: [] as number[],
      emptyServerWarm: [] as number[],
      peerEmptyServerWarm: [] as number[],
    };
    const pause = () => new Promise((r) => setTimeout(r, 25));
    const timed = async (fn: () => Promise<unknown>): Promise<number> => {
      await pause();
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    for (let round = -20; round < ROUNDS; round++) {
      const engine = await timed(() =>
        t.app.engine.infer({ task: 'chest', version, views: [tensor.slice()], priority: 'ROUTINE' }),
      );
      serviceMs = NaN;
      const service = await timed(() =>
        t.app.analysis.analyzeStudy(createRequestContext(t.app.orm.em, principal, 'bench'), studyId),
      );
      await pause();
      serviceMs = NaN;
      const full = await client.post(t.app.url, rad, mutation);
      if (!full.json.data) throw new Error(`analyzeStudy failed: ${JSON.stringify(full.json.errors)}`);
      const fullServer = server.take();
      const inside = serviceMs;
      await pause();
      const none = await client.post(t.app.url, rad, empty);
      if (none.status !== 200) throw new Error(`{ __typename } answered ${none.status}`);
      const emptyServer = server.take();
      await pause();
      serviceMs = NaN;
      const peerFull = await client.post(peer.url, rad, mutation);
      if (!(peerFull.json.data as { analyzeStudy?: unknown } | undefined)?.analyzeStudy)
        throw new Error(`bare Apollo analyzeStudy failed: ${JSON.stringify(peerFull.json.errors)}`);
      const peerFullServer = server.take();
      const peerInside = serviceMs;
      await pause();
      await client.post(peer.url, rad, empty);
      const peerEmptyServer = server.take();
      if (round < 0) continue; // warm-up
      samples.peerFullServer.push(peerFullServer);
      samples.peerServerOverhead.push(peerFullServer - peerInside);
      samples.peerEmptyServer.push(peerEmptyServer);
      samples.engine.push(engine);
      samples.service.push(service);
      samples.fullRoundTrip.push(full.ms);
      samples.fullServer.push(fullServer);
      samples.serviceInsideRequest.push(inside);
      samples.serverOverhead.push(fullServer - inside);
      samples.clientOverhead.push(full.ms - inside);
      samples.emptyRoundTrip.push(none.ms);
      samples.emptyServer.push(emptyServer);
    }
    // Warm: `{ __typename }` back to back, no pause (caches and branch predictors stay trained).
    for (let i = -20; i < ROUNDS; i++) {
      await client.post(t.app.url, rad, empty);
      const ours = server.take();
      await client.post(peer.url, rad, empty);
      const bare = server.take();
      if (i < 0) continue;
      samples.emptyServerWarm.push(ours);
      samples.peerEmptyServerWarm.push(bare);
    }
    await peer.stop();
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, r3(median(v))])) as Record<
      keyof typeof samples,
      number
    >;
    const report = {
      rounds: ROUNDS,
      film: FILM,
      medianMs: m,
      p90Ms: {
        serverOverhead: r3(quantile(samples.serverOverhead, 0.9)),
        peerServerOverhead: r3(quantile(samples.peerServerOverhead, 0.9)),
      },
      apiOverheadOnServerMs: m.serverOverhead,
      bareApolloOverheadOnServerMs: m.peerServerOverhead,
      addedBeyondBareApolloMs: r3(m.serverOverhead - m.peerServerOverhead),
      overheadSeenByClientMs: m.clientOverhead,
      goalApiOverheadMs: 1,
    };
    const line = (label: string, ms: number, note = '') =>
      console.log(`${label.padEnd(40)} ${ms.toFixed(3).padStart(8)} ms  ${note}`);
    line('engine alone', m.engine, 'model inference through the batching engine');
    line('service alone (in-process)', m.service, 'reads, decode, inference, heatmap, transaction');
    line('full stack: client round trip', m.fullRoundTrip, 'client in its own process');
    line('full stack: server time', m.fullServer, 'request received -> response handed to the socket');
    line('  of which the service', m.serviceInsideRequest);
    line(
      'API overhead on the server',
      m.serverOverhead,
      `p90 ${report.p90Ms.serverOverhead} ms; goal < 1 ms`,
    );
    line('overhead seen by the client', m.clientOverhead, 'adds loopback TCP and client work');
    line('empty { __typename }: round trip', m.emptyRoundTrip);
    line('empty { __typename }: server time', m.emptyServer, 'after the pause (cold)');
    line('  back to back (warm)', m.emptyServerWarm);
    line(
      'peer, bare Apollo: API overhead',
      m.peerServerOverhead,
      `p90 ${report.p90Ms.peerServerOverhead} ms`,
    );
    line('peer: { __typename } server time', m.peerEmptyServer, 'cold');
    line('  back to back (warm)', m.peerEmptyServerWarm);
    line(
      'ours beyond bare Apollo',
      report.addedBeyondBareApolloMs,
      'auth, audit, metrics, limits, type-graphql',
    );
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results', 'graphql-overhead.json'),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    console.log('wrote bench/results/graphql-overhead.json');
  } finally {
    server.stop();
    client.stop();
    await t.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

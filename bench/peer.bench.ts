/**
 * Serving speed against the original design's stack, side by side: `npm run bench -- peer` (needs
 * DATABASE_URL or PostgreSQL on 127.0.0.1:5432, the shared data, the shipped models, and Debian's
 * python3-torch, python3-fastapi, python3-uvicorn and python3-multipart under /usr/bin/python3).
 *
 * Starts one API process, asks it which chest version it serves as production (the version of a
 * served reading, then that version's folder in the registry), and starts the peer
 * (bench/peer/server.py: FastAPI + PyTorch) on the same network: that folder's model.pt in its PyTorch
 * class. Each arm first serves BENCH_WARMUP (240) requests at concurrency 16 that are not measured, so
 * both servers are in their steady state. Then, alternating arms and rotating which goes first, at
 * concurrency 1, 16 and 64 it sends
 * the same chest JPEGs to
 * - the peer: one `POST /predict` (upload, decode, forward, JSON);
 * - ours, `analyzeStudy`: a study whose film was uploaded and attached beforehand, read again
 *   (`reread: true`, so every request runs the model and stores a new reading);
 * - ours, the front-end path: `POST /uploads`, `attachImage` to an empty study, `analyzeStudy`
 *   (three requests against the peer's one; its latency is the three together).
 * Every arm's requests go through one keep-alive `node:http` agent (`httpRequest`), not fetch: the
 * client shares the two cores with both servers, and fetch cost about twice its CPU per request.
 * Prints p50/p99 latency and throughput per arm, the ratios to the peer, every answer's outcome
 * (a result, QUEUE_FULL, or anything else, which counts as lost), and the server's own stage timings
 * at concurrency 1 and 16 (medians of what each reading reports), and the CPU time each answer cost
 * each process (ours, the peer, PostgreSQL, this client; from /proc, so Linux only), ours also by
 * thread role (event loop, decode workers, model sessions, drift worker, V8 and libuv). Writes
 * bench/results/peer.json.
 *
 * `BENCH_PRECISIONS=fp32,int8` (written to bench/results/peer-fp32-int8.json) measures ours twice in the same run, one API process per
 * `ENGINE_PRECISION` (arms `analyzeStudy (int8)` and `frontEnd (int8)` beside the fp32 ones, rotated
 * with the rest), and prints the int8 arms' ratios to their fp32 arms as well; the peer always runs
 * model.pt in float.
 */
import 'reflect-metadata';
import { startBenchServer } from './bench-server';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { CLOCK_TICKS, parseStat, threadCpuByRole, type ThreadRole } from '../src/shared/thread-cpu';
import { httpRequest, median, quantile, r2 } from './bench-utils';

/** The thread roles of our server the CPU table splits (see src/shared/thread-cpu.ts). */
const ROLES: ThreadRole[] = ['event-loop', 'decode', 'engine', 'drift', 'runtime'];

const ROOT = join(__dirname, '..');
const SHARED = process.env.CARE_SHARED_DIR ?? join(ROOT, '..', 'shared');
const PYTHON = process.env.PEER_PYTHON ?? '/usr/bin/python3';
/** Requests (or front-end flows) per arm and round at each concurrency. */
const COUNTS: Record<number, number> = { 1: 40, 16: 240, 64: 384 };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LEVELS = [1, 16, 64];
const FILMS = 64;
/**
 * Requests per arm, at concurrency 16, before anything is measured: each server reaches its steady state
 * first (V8 optimises the hot paths of ours after a few hundred requests; the peer warms its allocator).
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 240);

type Outcome = 'OK' | 'QUEUE_FULL' | string;
interface ArmRun {
  latencies: number[];
  seconds: number;
  outcomes: Record<Outcome, number>;
  timings: Record<string, number>[];
  steps: Record<string, number[]>;
  /** CPU time used while the arm ran, by process: ours, the peer, PostgreSQL, this client (ms). */
  cpuMs: Record<string, number>;
}

/** CPU time (ms) a process has used so far, all its threads, from /proc/<pid>/stat; 0 where unreadable. */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.fields ?? [];
    return ((Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU time (ms) PostgreSQL has used so far (the server runs on this machine): every live postgres
 * process, plus what its exited children used, which the postmaster's own record keeps (cutime and
 * cstime of /proc/<postmaster>/stat): a backend or autovacuum worker that ends during an arm would
 * otherwise take its CPU time out of the sum.
 */
function postgresCpuMs(): number {
  const stats = new Map<number, string[]>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (stat?.name.startsWith('postgres')) stats.set(Number(pid), stat.fields);
    } catch {
      // the process ended meanwhile
    }
  }
  let ticks = 0;
  for (const f of stats.values()) {
    ticks += Number(f[11]) + Number(f[12]);
    if (!stats.has(Number(f[1]))) ticks += Number(f[13]) + Number(f[14]); // the postmaster: its reaped children
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

interface GqlAnswer {
  data?: Record<string, Record<string, unknown> | null>;
  errors?: { extensions?: { code?: string } }[];
}

async function gql(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlAnswer> {
  const res = await httpRequest(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return JSON.parse(res.body) as GqlAnswer;
}

const codeOf = (a: GqlAnswer): Outcome => (a.errors ? (a.errors[0]?.extensions?.code ?? 'UNKNOWN') : 'OK');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

async function startPeer(modelDir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    PYTHON,
    [join(__dirname, 'peer', 'server.py'), '--model', modelDir, '--port', String(port)],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`peer exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill('SIGKILL');
  throw new Error('peer did not start in 30 s');
}

/** A multipart/form-data body with one `file` field, built once per film. */
function multipart(bytes: Buffer, name: string): { body: Buffer; type: string } {
  const boundary = `----peer${name.replace(/\W/g, '')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      'Content-Type: image/jpeg\r\n\r\n',
  );
  return {
    body: Buffer.concat([head, bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

/** Runs `total` calls of `one(i)` with `concurrency` in flight; each returns its outcome. */
async function drive(
  concurrency: number,
  total: number,
  one: (i: number, run: ArmRun) => Promise<Outcome>,
  cpu: () => Record<string, number> = () => ({}),
): Promise<ArmRun> {
  const run: ArmRun = { latencies: [], seconds: 0, outcomes: {}, timings: [], steps: {}, cpuMs: {} };
  let next = 0;
  const cpu0 = cpu();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        let outcome: Outcome;
        try {
          outcome = await one(i, run);
        } catch (error) {
          outcome = `NETWORK:${(error as Error).message}`;
        }
        run.latencies.push(performance.now() - s);
        run.outcomes[outcome] = (run.outcomes[outcome] ?? 0) + 1;
      }
    }),
  );
  run.seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpu();
  for (const key of Object.keys(cpu1)) run.cpuMs[key] = cpu1[key]! - cpu0[key]!;
  return run;
}

/** Merges an arm's rounds at one concurrency: latency, throughput, outcomes, stage medians, CPU. */
function merged(runs: ArmRun[]) {
  const latencies = runs.flatMap((r) => r.latencies);
  const n = latencies.length;
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  const outcomes: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
  const stages: Record<string, number> = {};
  for (const key of new Set(runs.flatMap((r) => r.timings.flatMap((t) => Object.keys(t)))))
    stages[key] = r2(median(runs.flatMap((r) => r.timings.map((t) => t[key] ?? 0))));
  const steps: Record<string, number> = {};
  for (const key of new Set(runs.flatMap((r) => Object.keys(r.steps))))
    steps[key] = r2(median(runs.flatMap((r) => r.steps[key] ?? [])));
  const cpuPerRequestMs: Record<string, number> = {};
  for (const key of Object.keys(runs[0]!.cpuMs))
    cpuPerRequestMs[key] = r2(runs.reduce((s, r) => s + r.cpuMs[key]!, 0) / n);
  return {
    p50Ms: r2(median(latencies)),
    p99Ms: r2(quantile(latencies, 0.99)),
    perMinute: Math.round((n / seconds) * 60),
    answeredPerMinute: Math.round(((outcomes.OK ?? 0) / seconds) * 60),
    outcomes,
    serverStagesP50Ms: stages,
    clientStepsP50Ms: steps,
    cpuPerRequestMs,
  };
}

/** Prints the tables (ratios to the peer; int8 arms also to their fp32 arm) and writes them under bench/results/. */
function report(
  results: Record<string, Record<number, ArmRun[]>>,
  names: string[],
  served: { version: string; stage: string },
): void {
  const ourArms = names.filter((n) => n !== 'peer');
  const table = LEVELS.map((c) => {
    const row: Record<string, unknown> & { concurrency: number } = { concurrency: c };
    const arms = Object.fromEntries(names.map((n) => [n, merged(results[n]![c]!)]));
    const p = arms.peer!;
    const ratios: Record<string, number> = {};
    for (const n of ourArms) {
      ratios[`${n} throughput`] = r2(arms[n]!.answeredPerMinute / p.answeredPerMinute);
      ratios[`${n} p50`] = r2(arms[n]!.p50Ms / p.p50Ms);
      const base = n.replace(/ \(\w+\)$/, '');
      if (base !== n && arms[base]) {
        ratios[`${n} throughput vs ${base}`] = r2(arms[n]!.answeredPerMinute / arms[base]!.answeredPerMinute);
        ratios[`${n} p50 vs ${base}`] = r2(arms[n]!.p50Ms / arms[base]!.p50Ms);
      }
    }
    return { ...row, ...arms, ratios } as { concurrency: number; ratios: Record<string, number> } & Record<
      string,
      ReturnType<typeof merged>
    >;
  });
  const lost = table.flatMap((row) =>
    names.flatMap((name) =>
      Object.entries(row[name]!.outcomes)
        .filter(([k]) => k !== 'OK' && k !== 'QUEUE_FULL')
        .map(([k, v]) => `${name} c=${row.concurrency}: ${v} × ${k}`),
    ),
  );
  const label = (n: string) =>
    n === 'peer' ? 'peer (FastAPI + PyTorch)' : n.replace(/^\w+/, (m) => PATH_LABEL[m] ?? m);
  console.log('\n| c | arm | p50 ms | p99 ms | per min | vs peer: throughput | vs peer: p50 |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of table)
    for (const n of names) {
      const a = row[n]!;
      const [t, l] = n === 'peer' ? [1, 1] : [row.ratios[`${n} throughput`], row.ratios[`${n} p50`]];
      console.log(
        `| ${row.concurrency} | ${label(n)} | ${a.p50Ms} | ${a.p99Ms} | ${a.answeredPerMinute} | ${t} | ${l} |`,
      );
    }
  const versus = Object.keys(table[0]!.ratios).filter((k) => k.includes(' vs '));
  if (versus.length) {
    console.log('\nint8 against fp32 (ours, same run):');
    for (const row of table)
      console.log(`  c=${row.concurrency}: ${versus.map((k) => `${k} ${row.ratios[k]}`).join('; ')}`);
  }
  for (const c of [1, 16]) {
    const row = table.find((t) => t.concurrency === c)!;
    for (const n of ourArms) {
      console.log(`\nserver stages at c=${c}, ${n} (p50 ms): ${JSON.stringify(row[n]!.serverStagesP50Ms)}`);
      if (n.startsWith('frontEnd'))
        console.log(`client steps at c=${c}, ${n} (p50 ms): ${JSON.stringify(row[n]!.clientStepsP50Ms)}`);
    }
  }
  // Where the two cores went: CPU per answered request (or front-end flow), by process.
  console.log('\n| c | arm | ours (all threads) | peer | PostgreSQL | bench client | in all |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of table)
    for (const n of names) {
      const cpu = row[n]!.cpuPerRequestMs;
      const all = r2(cpu.ours! + cpu.peer! + cpu.postgres! + cpu.client!);
      console.log(
        `| ${row.concurrency} | ${n} | ${cpu.ours} ms | ${cpu.peer} ms | ${cpu.postgres} ms | ${cpu.client} ms | ${all} ms |`,
      );
    }
  // Ours by thread role (the workers name their threads: src/shared/thread-cpu.ts).
  console.log(`\n| c | arm | ${ROLES.join(' | ')} |`);
  console.log(`|---|---|${ROLES.map(() => '---').join('|')}|`);
  for (const row of table)
    for (const n of ourArms) {
      const cpu = row[n]!.cpuPerRequestMs;
      console.log(
        `| ${row.concurrency} | ${n} | ${ROLES.map((r) => `${cpu[`thread:${r}`] ?? 0} ms`).join(' | ')} |`,
      );
    }
  console.log(
    lost.length
      ? `\nLOST: ${lost.join('; ')}`
      : '\nnothing lost: every request answered or refused with QUEUE_FULL',
  );
  const out = {
    machine: '2 cores (shared), one API process per precision, PostgreSQL on loopback, one uvicorn worker',
    model: { task: 'chest', version: served.version, stage: served.stage, precisions: PRECISIONS },
    rounds: ROUNDS,
    counts: COUNTS,
    table,
    lost,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  const file = PRECISIONS.join('-') === 'fp32' ? 'peer.json' : `peer-${PRECISIONS.join('-')}.json`;
  writeFileSync(join(__dirname, 'results', file), JSON.stringify(out, null, 2));
  if (lost.length) process.exitCode = 1;
}

/** Precisions of ours to measure, each in its own API process (`BENCH_PRECISIONS`, default `fp32`). */
const PRECISIONS = (process.env.BENCH_PRECISIONS ?? 'fp32').split(',').map((p) => p.trim());

type Film = { name: string; bytes: Buffer };
type Arm = (i: number, run: ArmRun) => Promise<Outcome>;

/** One API process of ours (`ENGINE_PRECISION=precision`), its studies, and its two arms. */
async function startOurs(precision: string, films: Film[]) {
  const { server, techToken, radToken, stop } = await startBenchServer(`peer-${precision}`, {
    ENGINE_PRECISION: precision,
  });
  const url = server.url;
  try {
    const patient = await gql(
      url,
      techToken,
      'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
      { i: { mrn: 'BENCH-PEER', givenName: 'Bench', familyName: 'Peer' } },
    );
    const patientId = patient.data!.createPatient!.id as string;
    let accession = 0;
    const createStudy = async () =>
      (
        await gql(url, techToken, 'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }', {
          i: { patientId, bodyPart: 'CHEST', accessionNumber: `PEER-${accession++}` },
        })
      ).data!.createStudy!.id as string;
    const upload = async (i: number): Promise<{ uploadId?: string; code?: string }> => {
      const res = await httpRequest(`${url}/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${techToken}` },
        body: films[i % films.length]!.bytes,
      });
      const body = JSON.parse(res.body) as { uploadId?: string; code?: string; error?: { code?: string } };
      return res.status >= 200 && res.status < 300
        ? body
        : { code: body.code ?? body.error?.code ?? `HTTP_${res.status}` };
    };
    const attach = (studyId: string, uploadId: string) =>
      gql(url, techToken, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
        i: { studyId, uploadId, view: 'PA' },
      });
    const analyzeQuery =
      'mutation($s: ID!, $r: Boolean!) { analyzeStudy(studyId: $s, reread: $r) { id modelVersionId timings } }';
    const analyze = (studyId: string, reread: boolean) =>
      gql(url, radToken, analyzeQuery, { s: studyId, r: reread });

    // Studies with a film already attached (analyzeStudy path), one per film.
    const ready: string[] = [];
    for (let i = 0; i < films.length; i++) {
      const s = await createStudy();
      const up = await upload(i);
      await attach(s, up.uploadId!);
      ready.push(s);
    }
    // Empty studies for the front-end path, one per flow.
    const flows = WARMUP + ROUNDS * LEVELS.reduce((n, c) => n + COUNTS[c]!, 0);
    const empty: string[] = [];
    for (let i = 0; i < flows; i += 16) {
      empty.push(...(await Promise.all(Array.from({ length: Math.min(16, flows - i) }, createStudy))));
    }

    // The version the server serves, and its folder: the peer loads the same network.
    const first = await analyze(ready[0]!, false);
    const versionId = first.data!.analyzeStudy!.modelVersionId as string;
    const registry = await gql(
      url,
      radToken,
      '{ modelVersions(first: 100) { edges { node { id task version stage artifactPath } } } }',
    );
    const served = (
      registry.data!.modelVersions!.edges as {
        node: { id: string; version: string; stage: string; artifactPath: string };
      }[]
    ).find((e) => e.node.id === versionId)!.node;
    // Which graph it runs (ENGINE_PRECISION=int8 serves the version's accepted int8 graph): /health/ready says.
    const readiness = (await (await fetch(`${url}/health/ready`)).json()) as { checks?: { models?: string } };
    const runs = new RegExp(`chest@${served.version}\\*? on \\w+ \\(int8\\)`).test(
      readiness.checks?.models ?? '',
    )
      ? 'int8'
      : 'fp32';
    if (runs !== precision)
      throw new Error(`ENGINE_PRECISION=${precision} serves chest ${served.version} at ${runs}`);
    for (let i = 0; i < 10; i++) await analyze(ready[i % ready.length]!, true);

    let nextEmpty = 0;
    const arms: { analyzeStudy: Arm; frontEnd: Arm } = {
      analyzeStudy: async (i, run) => {
        const a = await analyze(ready[i % ready.length]!, true);
        if (!a.errors) run.timings.push(a.data!.analyzeStudy!.timings as Record<string, number>);
        return codeOf(a);
      },
      frontEnd: async (_i, run) => {
        const study = empty[nextEmpty++]!;
        const step = (name: string, since: number) =>
          (run.steps[name] ??= []).push(performance.now() - since);
        let t = performance.now();
        const up = await upload(nextEmpty);
        step('upload', t);
        if (!up.uploadId) return up.code ?? 'UPLOAD_FAILED';
        t = performance.now();
        const at = await attach(study, up.uploadId);
        step('attach', t);
        if (at.errors) return codeOf(at);
        t = performance.now();
        const a = await analyze(study, false);
        step('analyze', t);
        if (!a.errors) run.timings.push(a.data!.analyzeStudy!.timings as Record<string, number>);
        return codeOf(a);
      },
    };
    return { precision, served, pid: server.child.pid, arms, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** An arm's name: `analyzeStudy` / `frontEnd` for fp32, with ` (int8)` after it for another precision. */
const armName = (path: string, precision: string) => (precision === 'fp32' ? path : `${path} (${precision})`);
const PATH_LABEL: Record<string, string> = {
  analyzeStudy: 'analyzeStudy',
  frontEnd: 'upload + attach + analyze',
};

async function main(): Promise<void> {
  const dir = join(SHARED, 'datasets', 'chest', 'kermany', 'test', 'NORMAL');
  const films = readdirSync(dir)
    .filter((f) => f.endsWith('.jpeg'))
    .slice(0, FILMS)
    .map((f) => ({ name: f, bytes: readFileSync(join(dir, f)) }));
  const forms = films.map((f) => multipart(f.bytes, f.name));
  const ours: Awaited<ReturnType<typeof startOurs>>[] = [];
  let peer: { url: string; child: ChildProcess } | null = null;
  try {
    for (const p of PRECISIONS) ours.push(await startOurs(p, films));
    const served = ours[0]!.served;
    if (ours.some((o) => o.served.artifactPath !== served.artifactPath))
      throw new Error('the API processes serve different chest versions');
    const modelDir = resolve(ROOT, served.artifactPath);
    console.log(
      `serving chest ${served.version} (${served.stage}; ${PRECISIONS.join(' and ')}) from ${modelDir}`,
    );
    peer = await startPeer(modelDir);
    const peerUrl = peer.url;
    for (let i = 0; i < 10; i++) {
      const f = forms[i % forms.length]!;
      await httpRequest(`${peerUrl}/predict`, {
        method: 'POST',
        headers: { 'content-type': f.type },
        body: f.body,
      });
    }

    /** One request (or front-end flow) of each arm, and the process whose CPU it is charged to. */
    const arms: Record<string, { one: Arm; pid: number | undefined }> = {
      peer: {
        pid: undefined,
        one: async (i) => {
          const f = forms[i % forms.length]!;
          const res = await httpRequest(`${peerUrl}/predict`, {
            method: 'POST',
            headers: { 'content-type': f.type },
            body: f.body,
          });
          const body = JSON.parse(res.body) as { label?: string };
          return res.status >= 200 && res.status < 300 && body.label ? 'OK' : `HTTP_${res.status}`;
        },
      },
    };
    for (const o of ours)
      for (const [path, one] of Object.entries(o.arms))
        arms[armName(path, o.precision)] = { one, pid: o.pid };

    const names = Object.keys(arms);
    if (WARMUP > 0) {
      for (const name of names) {
        const run = await drive(16, WARMUP, arms[name]!.one);
        console.log(`warm-up ${name}: ${WARMUP} requests at c=16, ${JSON.stringify(run.outcomes)}`);
      }
    }
    const cpuNow = (pid: number | undefined) => () => {
      const own = process.cpuUsage();
      // Our arms: the server's threads by role as well (`thread:<role>`, from /proc/<pid>/task).
      const byRole = pid === undefined ? null : threadCpuByRole(pid);
      const roles = byRole
        ? Object.fromEntries(ROLES.map((role) => [`thread:${role}`, (byRole[role] ?? 0) * 1000]))
        : {};
      return {
        ours: pid === undefined ? ours.reduce((s, o) => s + processCpuMs(o.pid), 0) : processCpuMs(pid),
        peer: processCpuMs(peer!.child.pid),
        postgres: postgresCpuMs(),
        client: (own.user + own.system) / 1000,
        ...roles,
      };
    };
    const results: Record<string, Record<number, ArmRun[]>> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of LEVELS) {
        // Rotate which arm goes first.
        const order = names.map((_, k) => names[(k + round + LEVELS.indexOf(c)) % names.length]!);
        for (const name of order) {
          const run = await drive(c, COUNTS[c]!, arms[name]!.one, cpuNow(arms[name]!.pid));
          ((results[name] ??= {})[c] ??= []).push(run);
          console.log(
            `round ${round + 1} c=${c} ${name}: ${r2((run.latencies.length / run.seconds) * 60)}/min, ` +
              `p50 ${r2(median(run.latencies))} ms, ${JSON.stringify(run.outcomes)}`,
          );
        }
      }
    }
    report(results, names, served);
  } finally {
    peer?.child.kill('SIGTERM');
    for (const o of ours) await o.stop();
  }
}

void main();

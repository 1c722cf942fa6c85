/**
 * Subscription fan-out (issue 19): `npm run bench -- fanout` (needs PostgreSQL: DATABASE_URL, else the
 * local server on 127.0.0.1:5432 as user postgres).
 *
 * The app runs in this process on a fresh database with LISTEN/NOTIFY, as in production; the clients
 * run in another (bench/fanout-client.ts): INTEGRATOR WebSockets, one `studyEvents` subscription
 * each, broadcast or filtered by patient, and TECHNICIAN `updateStudy` mutations at a fixed rate,
 * open loop, each on one of 500 studies in turn (a study's next update comes 500 events later, so
 * every delivery names the event it is for). Per scenario it prints delivery p50/p99/max (update
 * sent → event parsed by the subscriber), deliveries lost, updateStudy p50/p99, this process's CPU
 * per delivery (net of the mutations, whose cost the idle row measures) and PostgreSQL's (every
 * `postgres` process on the machine, so run it on a quiet one), and checks that the audit trail has
 * one row per delivery. The `idle` row is the same updates with nobody subscribed: the latency
 * mutations keep while streams are busy is read against it. Nothing here asserts on time.
 * Writes bench/results/fanout.json. `BENCH_FANOUT=idle,b1000,f5000` picks scenarios.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Role } from '../src/domain/enums';
import { startLightApp } from '../test/security/light-app';
import type { TestApp } from '../test/support/test-app';
import { quantile, r2 } from './bench-utils';
import type { ClientResult, ClientScenario } from './fanout-client';

interface Scenario {
  name: string;
  /** Not reported: it warms the JIT, the pools and the caches before the measured rows. */
  warmUp?: boolean;
  /** Subscribers, and how many per patient when filtered (0: broadcast). */
  subscribers: number;
  perPatient: number;
  rate: number;
  seconds: number;
}

const WARM_UP: Scenario = {
  name: 'warm-up',
  warmUp: true,
  subscribers: 50,
  perPatient: 0,
  rate: 50,
  seconds: 8,
};
const SCENARIOS: Scenario[] = [
  { name: 'idle', subscribers: 0, perPatient: 0, rate: 10, seconds: 15 },
  { name: 'b100', subscribers: 100, perPatient: 0, rate: 10, seconds: 15 },
  { name: 'b1000', subscribers: 1000, perPatient: 0, rate: 10, seconds: 30 },
  { name: 'idle100', subscribers: 0, perPatient: 0, rate: 100, seconds: 10 },
  { name: 'f5000', subscribers: 5000, perPatient: 10, rate: 100, seconds: 30 },
  { name: 'b1000x40', subscribers: 1000, perPatient: 0, rate: 40, seconds: 15 },
];
const PATIENTS = 500;
/** Subscriptions per integrator token (the per-user cap is 50). */
const PER_INTEGRATOR = 50;

/** CPU time (ms) of each `postgres` process now, by pid. */
function postgresCpu(): Map<string, number> {
  const tick = 1000 / 100; // CLK_TCK is 100 on Linux
  const byPid = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(pid, (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      // The process ended while it was read.
    }
  }
  return byPid;
}

/**
 * PostgreSQL CPU (ms) spent between two readings by the processes alive at the second (a backend that
 * ended in between is not counted; this app's pool keeps its connections).
 */
function postgresCpuSince(before: Map<string, number>): number {
  let total = 0;
  for (const [pid, ms] of postgresCpu()) total += ms - (before.get(pid) ?? 0);
  return total;
}

function client() {
  const child = fork(join(__dirname, 'fanout-client.ts'), {
    execArgv: ['-r', '@swc-node/register'],
    stdio: 'inherit',
  });
  let waiting: ((m: { type: string; value?: unknown; error?: string }) => void) | null = null;
  child.on('message', (m: { type: string; value?: unknown; error?: string }) => waiting?.(m));
  const ask = <T>(message: object, answer: string): Promise<T> =>
    new Promise((resolve, reject) => {
      waiting = (m) => {
        if (m.type !== answer) return;
        waiting = null;
        if (m.error) reject(new Error(m.error));
        else resolve(m.value as T);
      };
      child.send(message);
    });
  return { ask, stop: () => child.disconnect() };
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function auditRows(t: TestApp): Promise<number> {
  const [row] = (await t.app.orm.em
    .fork()
    .getConnection()
    .execute(`select count(*)::int as n from audit_event where operation = 'subscription studyEvents'`)) as {
    n: number;
  }[];
  return row!.n;
}

async function counter(t: TestApp, name: string): Promise<number> {
  const metric = await t.app.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/** Cumulative counts of the fan-out histogram by bucket bound (every topic), and its sum and count. */
async function fanOutHistogram(
  t: TestApp,
): Promise<{ buckets: Map<number, number>; sum: number; count: number }> {
  const metric = await t.app.metrics.registry
    .getSingleMetric('care_companion_subscription_fanout_seconds')
    ?.get();
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const v of metric?.values ?? []) {
    const name = (v as { metricName?: string }).metricName ?? '';
    if (name.endsWith('_bucket')) {
      const le = Number(v.labels.le === '+Inf' ? Infinity : v.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    } else if (name.endsWith('_sum')) sum += v.value;
    else if (name.endsWith('_count')) count += v.value;
  }
  return { buckets, sum, count };
}

/**
 * Server-side fan-out between two readings (event in this process → last frame handed to a socket):
 * mean, and the bucket bound that 99% of events stayed under.
 */
function fanOutSince(before: Awaited<ReturnType<typeof fanOutHistogram>>, after: typeof before) {
  const count = after.count - before.count;
  if (!count) return { events: 0, meanMs: null, p99UnderMs: null };
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const under = bounds.find((b) => after.buckets.get(b)! - (before.buckets.get(b) ?? 0) >= 0.99 * count);
  return {
    events: count,
    meanMs: r2(((after.sum - before.sum) / count) * 1000),
    p99UnderMs: under === undefined || under === Infinity ? null : under * 1000,
  };
}

async function main() {
  // Like `npm test`: the local PostgreSQL when no DATABASE_URL is given (LISTEN/NOTIFY, as in production).
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  const wanted = process.env.BENCH_FANOUT?.split(',');
  const scenarios = [WARM_UP, ...SCENARIOS.filter((s) => !wanted || wanted.includes(s.name))];
  const t = await startLightApp({
    MODEL_RECONCILE_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
  });
  const c = client();
  try {
    // 500 patients with one study each; technicians and integrators.
    const admin = await t.tokenFor(Role.TECHNICIAN);
    // Enough technicians that 100 updates/s stay under each token's RATE_LIMIT_PER_MINUTE (1,200); not
    // `admin`, whose window the 1,000 set-up mutations below already fill.
    const technicians = await Promise.all(Array.from({ length: 20 }, () => t.tokenFor(Role.TECHNICIAN)));
    const studies: { studyId: string; patientId: string }[] = [];
    for (let i = 0; i < PATIENTS; i += 25)
      studies.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(25, PATIENTS - i) }, async (_, j) => {
            const p = await t.gql<{ createPatient: { id: string } }>(
              admin,
              'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "Fan", familyName: "Out"}) { id } }',
              { m: `FAN-${i + j}` },
            );
            const patientId = p.data!.createPatient.id;
            const s = await t.gql<{ createStudy: { id: string } }>(
              admin,
              'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $a}) { id } }',
              { p: patientId, a: `FAN-A${i + j}` },
            );
            return { patientId, studyId: s.data!.createStudy.id };
          }),
        )),
      );
    const most = Math.max(...scenarios.map((s) => s.subscribers));
    const integrators: string[] = [];
    for (let i = 0; i < Math.ceil(most / PER_INTEGRATOR); i++)
      integrators.push(await t.tokenFor(Role.INTEGRATOR));

    const rows: Record<string, unknown>[] = [];
    const idleCpuPerMutation: Record<number, number> = {};
    for (const s of scenarios) {
      const count = s.rate * s.seconds;
      const scenario: ClientScenario = {
        name: s.name,
        url: t.app.url,
        subscribers: Array.from({ length: s.subscribers }, (_, i) => ({
          token: integrators[Math.floor(i / PER_INTEGRATOR)]!,
          patientId: s.perPatient ? studies[Math.floor(i / s.perPatient) % studies.length]!.patientId : null,
        })),
        events: studies,
        rate: s.rate,
        count,
        technicians,
      };
      await c.ask({ type: 'connect', scenario }, 'connected');
      await until(() => t.app.subscriptions.fanOut.stats().subscriptions === s.subscribers, 'subscriptions');
      const loop = monitorEventLoopDelay({ resolution: 5 });
      const gc: number[] = [];
      const gcObserver = new PerformanceObserver((list) =>
        gc.push(...list.getEntries().map((e) => e.duration)),
      );
      gcObserver.observe({ entryTypes: ['gc'] });
      loop.enable();
      const before = {
        cpu: process.cpuUsage(),
        pg: postgresCpu(),
        audit: await auditRows(t),
        dropped: await counter(t, 'care_companion_subscription_dropped_total'),
        slow: await counter(t, 'care_companion_subscription_slow_consumers_total'),
        fanOut: await fanOutHistogram(t),
      };
      const result = await c.ask<ClientResult>(
        { type: 'run', scenario, tag: `${s.name}-${Date.now()}` },
        'result',
      );
      await t.app.subscriptions.fanOut.drain();
      await t.app.subscriptions.audit.flush();
      const cpu = process.cpuUsage(before.cpu);
      loop.disable();
      gcObserver.disconnect();
      const serverMs = (cpu.user + cpu.system) / 1000;
      const pgMs = postgresCpuSince(before.pg);
      const audit = (await auditRows(t)) - before.audit;
      const dropped = (await counter(t, 'care_companion_subscription_dropped_total')) - before.dropped;
      const slow = (await counter(t, 'care_companion_subscription_slow_consumers_total')) - before.slow;
      const serverFanOut = fanOutSince(before.fanOut, await fanOutHistogram(t));
      await c.ask({ type: 'close' }, 'closed');
      await until(() => t.app.subscriptions.fanOut.stats().connections === 0, 'sockets to close');

      if (s.warmUp) continue;
      if (!s.subscribers) idleCpuPerMutation[s.rate] = serverMs / count;
      const mutationCpu = (idleCpuPerMutation[s.rate] ?? idleCpuPerMutation[10] ?? 0) * count;
      const deliveries = result.received;
      const row = {
        scenario: s.name,
        subscribers: s.subscribers,
        filter: s.perPatient ? `patient (${s.perPatient} each)` : 'none',
        eventsPerSecond: s.rate,
        events: count,
        deliveries,
        deliveryP50Ms: deliveries ? r2(quantile(result.delivery, 0.5)) : null,
        deliveryP99Ms: deliveries ? r2(quantile(result.delivery, 0.99)) : null,
        deliveryMaxMs: deliveries ? r2(result.delivery.reduce((a, b) => Math.max(a, b), 0)) : null,
        lost: result.expected - result.received,
        unexpected: result.unexpected,
        closedByServer: result.closed,
        updateStudyP50Ms: r2(quantile(result.mutation, 0.5)),
        updateStudyP99Ms: r2(quantile(result.mutation, 0.99)),
        updateStudyErrors: result.mutationErrors,
        updateStudyErrorSamples: result.mutationErrorSamples,
        serverFanOut,
        serverEventLoopDelayMs: { p99: r2(loop.percentile(99) / 1e6), max: r2(loop.max / 1e6) },
        serverGcMs: {
          total: r2(gc.reduce((a, b) => a + b, 0)),
          max: r2(gc.reduce((a, b) => Math.max(a, b), 0)),
        },
        clientCpuMs: r2(result.clientCpuMs),
        clientStallMs: {
          loopP99: r2(result.clientStallMs.loopP99),
          loopMax: r2(result.clientStallMs.loopMax),
          gcMax: r2(result.clientStallMs.gcMax),
        },
        serverCpuMs: r2(serverMs),
        serverCpuUsPerDelivery: deliveries ? r2(((serverMs - mutationCpu) * 1000) / deliveries) : null,
        postgresCpuUsPerDelivery: deliveries ? r2((pgMs * 1000) / deliveries) : null,
        postgresCpuMs: r2(pgMs),
        auditRows: audit,
        auditComplete: audit === deliveries,
        dropped,
        slowConsumersClosed: slow,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    console.log(
      '\nsubscribers | filter | events/s | delivery p50 / p99 / max (ms) | lost | updateStudy p50 / p99 (ms), errors | server CPU / delivery (µs) | PostgreSQL CPU / delivery (µs) | audit rows = deliveries',
    );
    for (const r of rows)
      console.log(
        [
          r.subscribers,
          r.filter,
          r.eventsPerSecond,
          `${r.deliveryP50Ms ?? '-'} / ${r.deliveryP99Ms ?? '-'} / ${r.deliveryMaxMs ?? '-'}`,
          r.lost,
          `${r.updateStudyP50Ms} / ${r.updateStudyP99Ms}, ${r.updateStudyErrors}`,
          r.serverCpuUsPerDelivery ?? '-',
          r.postgresCpuUsPerDelivery ?? '-',
          r.auditComplete,
        ].join(' | '),
      );
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results', 'fanout.json'),
      JSON.stringify({ at: new Date().toISOString(), rows }, null, 2),
    );
  } finally {
    c.stop();
    await t.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

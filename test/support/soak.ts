import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Role } from '../../src/domain/enums';
import { startPrivatePostgres } from './private-postgres';
import { killAllServerProcesses, startServerProcess } from './server-process';
import { fixtureFile } from './shared-data';
import { subscribe, wsClient } from './ws-client';
import { seedUsers } from './seed-users';

/** Codes a request may fail with while the database is down: each tells the client to retry. */
export const RETRYABLE = new Set([
  'SERVICE_UNAVAILABLE',
  'STORAGE_UNAVAILABLE',
  'QUEUE_FULL',
  'RATE_LIMITED',
]);

/** One request of the load, and how it ended. */
export interface SoakRequest {
  op: 'query' | 'createPatient' | 'createStudy' | 'upload' | 'attachImage' | 'analyzeStudy' | 'submitStudies';
  startedAt: number;
  endedAt: number;
  status: number;
  /** Error code; `HANG` when no answer came within the request timeout. */
  code: string | null;
  /** Id of what an accepted write created. */
  id?: string;
  accepted: boolean;
}

/** What a soak run measured. */
export interface SoakReport {
  seconds: number;
  requests: SoakRequest[];
  outage: { downAt: number; upAt: number };
  /** RSS of the server process (MiB) every second, with the time. */
  rss: { at: number; mib: number }[];
  /** V8 heap in use of the server (MiB, from its /metrics) every 5 s, with the time. */
  heap: { at: number; mib: number }[];
  /** Accepted writes missing from the database afterwards, by kind. */
  lost: Record<string, string[]>;
  /** Accepted batch jobs not finished (every study counted) after the run. */
  unfinishedJobs: string[];
  /** Subscription events received after the database came back. */
  eventsAfterRestart: number;
  /** Server log lines with level error or fatal, or a stack trace. */
  errorLogLines: string[];
  serverExitCode: number | null;
  started: number;
}

/** The films the load uploads (committed fixtures), read when a run starts, not when this module loads. */
const FILMS = ['IM-0001-0001.jpeg', 'IM-0003-0001.jpeg', 'IM-0005-0001.jpeg'].map(
  (f) => `chest/kermany/test/NORMAL/${f}`,
);
const SECRET = 'soak-fault-secret-soak-fault-secret-soak';

function rssMib(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Runs one API process on a private PostgreSQL cluster, drives mixed load (queries, patients, studies,
 * uploads, attachments, analyses, batch jobs, a subscription) with `workers` concurrent clients for
 * `seconds`, stops PostgreSQL at a third of the time for `outageMs` and starts it again, then checks
 * that every accepted write is in the database and every accepted batch job finishes.
 */
export async function runSoak(options: {
  seconds: number;
  workers: number;
  outageMs: number;
  requestTimeoutMs?: number;
}): Promise<SoakReport> {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const films = FILMS.map((f) => fixtureFile(f));
  const pg = await startPrivatePostgres();
  const storageDir = mkdtempSync(join(tmpdir(), 'cc-soak-'));
  try {
    const { TECHNICIAN: tech, RADIOLOGIST: radiologist } = await seedUsers(
      pg.url,
      SECRET,
      [Role.TECHNICIAN, Role.RADIOLOGIST],
      'soak',
    );

    const server = await startServerProcess(
      {
        DATABASE_URL: pg.url,
        AUTH_SECRET: SECRET,
        STORAGE_FS_DIR: storageDir,
        DATABASE_POOL_MAX: '6',
        ANALYSIS_WORKERS: '2',
        DECODE_WORKERS: '0',
        ENGINE_INTRA_OP_THREADS: '1',
        RATE_LIMIT_PER_MINUTE: '0',
        ANALYSIS_JOB_EXPIRE_SECONDS: '60',
        JOB_MAINTENANCE_INTERVAL_SECONDS: '2',
      },
      150_000,
    );
    const pid = server.child.pid!;
    const requests: SoakRequest[] = [];
    const started = Date.now();

    const call = async (
      op: SoakRequest['op'],
      path: string,
      body: Buffer | string,
      contentType: string,
      token = tech,
      pick?: (json: Record<string, unknown>) => string | undefined,
    ): Promise<SoakRequest> => {
      const entry: SoakRequest = {
        op,
        startedAt: Date.now(),
        endedAt: 0,
        status: 0,
        code: null,
        accepted: false,
      };
      try {
        const res = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
          body,
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        entry.status = res.status;
        const json = (await res.json().catch(() => ({}))) as {
          data?: Record<string, unknown> | null;
          errors?: { extensions?: { code?: string } }[];
          error?: { code?: string };
          uploadId?: string;
        };
        entry.code =
          json.errors?.[0]?.extensions?.code ?? json.error?.code ?? (res.ok ? null : `HTTP_${res.status}`);
        entry.accepted = res.ok && !json.errors?.length && !json.error;
        if (entry.accepted && pick) entry.id = pick(json as Record<string, unknown>);
      } catch (error) {
        entry.code = (error as Error).name === 'TimeoutError' ? 'HANG' : 'CONNECTION_FAILED';
      }
      entry.endedAt = Date.now();
      requests.push(entry);
      return entry;
    };
    const gql = (
      op: SoakRequest['op'],
      query: string,
      variables: Record<string, unknown>,
      pick?: (data: Record<string, { id: string }>) => string,
      token = tech,
    ) =>
      call(op, '/graphql', JSON.stringify({ query, variables }), 'application/json', token, (json) =>
        pick ? pick(json.data as Record<string, { id: string }>) : undefined,
      );

    // Fixtures the load builds on.
    const patientIds: string[] = [];
    const readyStudies: string[] = [];
    let seq = 0;
    const newPatient = async () => {
      const n = ++seq;
      const r = await gql(
        'createPatient',
        'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
        { i: { mrn: `SOAK-${n}`, givenName: 'Soak', familyName: `Load${n}` } },
        (d) => d.createPatient.id,
      );
      if (r.accepted) patientIds.push(r.id!);
    };
    const newReadyStudy = async () => {
      if (!patientIds.length) return newPatient();
      const n = ++seq;
      const study = await gql(
        'createStudy',
        'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
        {
          i: {
            patientId: patientIds[n % patientIds.length],
            bodyPart: 'CHEST',
            accessionNumber: `SOAK-ACC-${n}`,
          },
        },
        (d) => d.createStudy.id,
      );
      if (!study.accepted) return;
      const upload = await call('upload', '/uploads', films[n % films.length], 'image/jpeg', tech, (j) =>
        String(j.uploadId),
      );
      if (!upload.accepted) return;
      const attached = await gql(
        'attachImage',
        'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }',
        { i: { studyId: study.id, uploadId: upload.id, view: 'PA' } },
        (d) => d.attachImage.id,
      );
      if (attached.accepted) readyStudies.push(study.id!);
    };
    await newPatient();
    await newReadyStudy();

    const client = wsClient(server.url, radiologist);
    const events: number[] = [];
    const sub = await subscribe<{ predictionCompleted: { id: string } }>(
      client,
      'subscription { predictionCompleted { id } }',
    );
    const seen = setInterval(() => {
      while (events.length < sub.events.length) events.push(Date.now());
    }, 50);

    const rss: { at: number; mib: number }[] = [];
    const sampler = setInterval(() => {
      try {
        rss.push({ at: Date.now() - started, mib: rssMib(pid) });
      } catch {
        // the process is gone; the exit code tells
      }
    }, 1000);

    const heap: { at: number; mib: number }[] = [];
    const heapSampler = setInterval(() => {
      fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(4000) })
        .then((res) => res.text())
        .then((text) => {
          const used = /^care_companion_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
          if (used) heap.push({ at: Date.now() - started, mib: Number(used[1]) / 2 ** 20 });
        })
        .catch(() => undefined);
    }, 5000);

    const until = started + options.seconds * 1000;
    const outage = { downAt: 0, upAt: 0 };
    const fault = (async () => {
      await new Promise((r) => setTimeout(r, (options.seconds * 1000) / 3));
      outage.downAt = Date.now();
      pg.stopServer('immediate');
      await new Promise((r) => setTimeout(r, options.outageMs));
      pg.startServer();
      outage.upAt = Date.now();
    })();

    const worker = async (w: number) => {
      let i = 0;
      while (Date.now() < until) {
        const pick = (w * 7 + i++) % 10;
        if (pick < 3) {
          await gql(
            'query',
            '{ patients(first: 5) { totalCount edges { node { id mrn } } } studies(first: 5) { edges { node { id status } } } }',
            {},
          );
        } else if (pick < 4) await newPatient();
        else if (pick < 7) await newReadyStudy();
        else if ((pick < 9 || i % 4 !== 0) && readyStudies.length) {
          await gql(
            'analyzeStudy',
            'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }',
            { s: readyStudies[i % readyStudies.length] },
            (d) => d.analyzeStudy.id,
            radiologist,
          );
        } else if (readyStudies.length) {
          await gql(
            'submitStudies',
            'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
            { ids: readyStudies.slice(-2) },
            (d) => d.submitStudies.id,
          );
        }
        // A failed request is retried after a short pause, as a client told to retry would.
        const last = requests[requests.length - 1];
        if (last && !last.accepted) await new Promise((r) => setTimeout(r, 250));
      }
    };
    await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
    await fault;

    // After the load: accepted batch jobs must finish (pg-boss resumed), and the subscription must
    // see events produced after the restart (LISTEN reconnected).
    const check = new Client({ connectionString: pg.url });
    await check.connect();
    const jobIds = requests.filter((r) => r.op === 'submitStudies' && r.accepted).map((r) => r.id!);
    const deadline = Date.now() + 120_000;
    let unfinishedJobs = jobIds;
    while (Date.now() < deadline) {
      const { rows } = await check.query<{ id: string }>(
        `select id from analysis_job where id = any($1::uuid[]) and (finished_at is null or completed + failed < total)`,
        [jobIds],
      );
      unfinishedJobs = rows.map((r) => r.id);
      if (!unfinishedJobs.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (readyStudies.length) {
      await gql(
        'analyzeStudy',
        'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }',
        { s: readyStudies[0] },
        (d) => d.analyzeStudy.id,
        radiologist,
      );
      await sub.waitFor(() => true, 1).catch(() => undefined);
      const waitUntil = Date.now() + 10_000;
      while (Date.now() < waitUntil && !events.some((t) => t > outage.upAt))
        await new Promise((r) => setTimeout(r, 100));
    }
    clearInterval(sampler);
    clearInterval(heapSampler);
    clearInterval(seen);
    sub.close();
    await client.dispose();

    const lost: Record<string, string[]> = {};
    const tables: Partial<Record<SoakRequest['op'], string>> = {
      createPatient: 'patient',
      createStudy: 'study',
      attachImage: 'image',
      analyzeStudy: 'prediction',
      submitStudies: 'analysis_job',
    };
    for (const [op, table] of Object.entries(tables)) {
      const ids = requests.filter((r) => r.op === op && r.accepted).map((r) => r.id!);
      const { rows } = await check.query<{ id: string }>(
        `select id from ${table} where id = any($1::uuid[])`,
        [ids],
      );
      const present = new Set(rows.map((r) => r.id));
      lost[op] = ids.filter((id) => !present.has(id));
    }
    await check.end();

    const errorLogLines = server.logs.filter((line) => {
      try {
        return (JSON.parse(line) as { level?: number }).level! >= 50;
      } catch {
        return /\n?\s+at |Error:/.test(line);
      }
    });
    const serverExitCode = server.child.exitCode;
    await killAllServerProcesses();
    return {
      seconds: options.seconds,
      requests,
      outage,
      rss,
      heap,
      lost,
      unfinishedJobs,
      eventsAfterRestart: events.filter((t) => t > outage.upAt).length,
      errorLogLines,
      serverExitCode,
      started,
    };
  } finally {
    await killAllServerProcesses();
    pg.destroy();
    rmSync(storageDir, { recursive: true, force: true });
  }
}

/** Counts of requests by operation and outcome, and RSS figures, for printing. */
export function summarize(report: SoakReport) {
  const byOp: Record<string, Record<string, number>> = {};
  for (const r of report.requests) {
    const outcome = r.accepted ? 'accepted' : (r.code ?? 'unknown');
    byOp[r.op] ??= {};
    byOp[r.op][outcome] = (byOp[r.op][outcome] ?? 0) + 1;
  }
  // Memory under load only: after the load the process idles while batch jobs finish.
  const underLoad = (s: { at: number }) => s.at <= report.seconds * 1000;
  const mib = report.rss.filter(underLoad).map((s) => s.mib);
  const third = Math.max(1, Math.floor(mib.length / 3));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const heap = report.heap.filter(underLoad).map((s) => s.mib);
  const heapThird = Math.max(1, Math.floor(heap.length / 3));
  return {
    seconds: report.seconds,
    requests: report.requests.length,
    accepted: report.requests.filter((r) => r.accepted).length,
    byOp,
    outageMs: report.outage.upAt - report.outage.downAt,
    rssMib: {
      first: Math.round(mib[0] ?? 0),
      medianFirstThird: Math.round(median(mib.slice(0, third))),
      medianLastThird: Math.round(median(mib.slice(-third))),
      max: Math.round(Math.max(0, ...mib)),
    },
    heapUsedMib: {
      samples: heap.length,
      medianFirstThird: Math.round(median(heap.slice(0, heapThird))),
      medianLastThird: Math.round(median(heap.slice(-heapThird))),
      max: Math.round(Math.max(0, ...heap)),
    },
    lost: Object.fromEntries(Object.entries(report.lost).map(([k, v]) => [k, v.length])),
    unfinishedJobs: report.unfinishedJobs.length,
    eventsAfterRestart: report.eventsAfterRestart,
    errorLogLines: report.errorLogLines.length,
  };
}

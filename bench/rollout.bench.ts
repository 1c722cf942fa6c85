/**
 * Rollout benchmark across two API server processes: `node -r @swc-node/register bench/rollout.bench.ts`
 * (needs DATABASE_URL or a local PostgreSQL on 127.0.0.1:5432, the shared data and models/chest/v1).
 *
 * Process A takes the admin's rollouts (start a canary, promote it, roll back) while process B serves
 * `analyzeStudy` at a steady concurrency. Measured in one run:
 * - the rollout mutation's latency on A (plan, load the new version on A, commit, apply on A);
 * - propagation: from A's answer until B's engine serves the new default (LISTEN/NOTIFY + load on B),
 *   polled on B's /health/ready; B's periodic re-read is off, so only the event can do it;
 * - the peer, a restart-based rollout: how long one API process takes from spawn to ready;
 * - B's analysis latency before the rollouts and while they run, and failures (must be 0).
 * Writes bench/results/rollout.json.
 */
import 'reflect-metadata';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenService } from '../src/auth/token.service';
import { createOrm, migrateToLatest } from '../src/db/orm';
import { ModelTask, Role } from '../src/domain/enums';
import { ModelVersion } from '../src/domain/model-version/model-version.entity';
import { User } from '../src/domain/user/user.entity';
import { addChestVersion, chestRepository, registerStaging } from '../test/support/model-repository';
import { startServerProcess, ServerProcess } from '../test/support/server-process';
import { createTestDatabase } from '../test/support/test-database';
import { median, quantile, r2 } from './bench-utils';

const SHARED = process.env.CARE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const SECRET = 'bench-rollout-secret-bench-rollout-0000';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);

type Gql = { data?: Record<string, Record<string, string>>; errors?: unknown[] };

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Gql;
}

async function must(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const r = await gql(url, token, query, variables);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!;
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = await createTestDatabase();
  const modelsDir = chestRepository(['v1']);
  const storageDir = join(tmpdir(), `cc-bench-rollout-${process.pid}`);
  const servers: ServerProcess[] = [];
  try {
    const orm = await createOrm({ url: db.url, poolMax: 2 });
    await migrateToLatest(orm);
    const em = orm.em.fork();
    const tokens: Record<string, string> = {};
    const issuer = new TokenService(SECRET, 'care-companion', 3600);
    for (const role of [Role.ADMIN, Role.TECHNICIAN, Role.RADIOLOGIST]) {
      const user = em.create(User, { email: `${role}@bench`, displayName: role, role, active: true } as User);
      await em.flush();
      tokens[role] = (await issuer.mint(user.id, role)).token;
    }
    const env = {
      DATABASE_URL: db.url,
      AUTH_SECRET: SECRET,
      STORAGE_FS_DIR: storageDir,
      MODELS_DIR: modelsDir,
      ANALYSIS_WORKERS: '0',
      MODEL_RECONCILE_INTERVAL_MS: '0',
      LOG_LEVEL: 'warn',
    };
    // The peer: a restart-based rollout costs at least one process start (spawn to ready).
    const restartMs: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      servers.push(await startServerProcess({ ...env, LOG_LEVEL: 'info' }));
      restartMs.push(performance.now() - t0);
    }
    const [a, b] = servers;
    const v1 = await em.findOneOrFail(ModelVersion, { task: ModelTask.CHEST, version: 'v1' });
    const candidates: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const v = `v${i + 2}`;
      candidates.push(
        (await registerStaging(em, { version: v, dir: addChestVersion(modelsDir, v), parent: v1 })).id,
      );
    }
    await orm.close(true);

    // Studies on B, re-analysed in a loop.
    const jpeg = readFileSync(
      join(SHARED, 'datasets', 'chest', 'kermany', 'test', 'NORMAL', 'IM-0005-0001.jpeg'),
    );
    const studies: string[] = [];
    for (let i = 0; i < 8; i++) {
      const p = await must(
        b.url,
        tokens.TECHNICIAN,
        'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "B", familyName: "R"}) { id } }',
        { m: `BR-${i}` },
      );
      const s = await must(
        b.url,
        tokens.TECHNICIAN,
        'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $a}) { id } }',
        { p: p.createPatient.id, a: `BRA-${i}` },
      );
      const up = await fetch(`${b.url}/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${tokens.TECHNICIAN}` },
        body: jpeg,
      });
      const { uploadId } = (await up.json()) as { uploadId: string };
      await must(
        b.url,
        tokens.TECHNICIAN,
        'mutation($s: ID!, $u: ID!) { attachImage(input: {studyId: $s, uploadId: $u, view: PA}) { id } }',
        { s: s.createStudy.id, u: uploadId },
      );
      studies.push(s.createStudy.id);
    }

    let phase: 'quiet' | 'rollout' | 'stop' = 'quiet';
    const latency: Record<'quiet' | 'rollout', number[]> = { quiet: [], rollout: [] };
    const failures: string[] = [];
    const worker = async (w: number) => {
      for (let n = 0; phase !== 'stop'; n++) {
        const at = phase as 'quiet' | 'rollout';
        const t0 = performance.now();
        const r = await gql(
          b.url,
          tokens.RADIOLOGIST,
          'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }',
          {
            s: studies[(w * 3 + n) % studies.length],
          },
        ).catch((e: Error) => ({ errors: [e.message] }) as Gql);
        if (r.errors) failures.push(JSON.stringify(r.errors));
        else latency[at].push(performance.now() - t0);
      }
    };
    const load = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, 5000));
    phase = 'rollout';

    const steps: Record<string, { mutationMs: number[]; propagationMs: number[] }> = {
      startCanary: { mutationMs: [], propagationMs: [] },
      promoteModelVersion: { mutationMs: [], propagationMs: [] },
      rollbackModelVersion: { mutationMs: [], propagationMs: [] },
    };
    /** Runs a rollout on A, then waits until B serves `version` (as the default, or loaded beside it). */
    const step = async (
      name: string,
      query: string,
      vars: Record<string, unknown>,
      version: string,
      asDefault: boolean,
    ) => {
      const t0 = performance.now();
      await must(a.url, tokens.ADMIN, query, vars);
      const t1 = performance.now();
      const wanted = asDefault ? `chest@${version}*` : `chest@${version} `;
      for (;;) {
        const body = (await (await fetch(`${b.url}/health/ready`)).json()) as { checks: { models: string } };
        if (body.checks.models.split(', ').some((m) => m.startsWith(wanted))) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      steps[name].mutationMs.push(t1 - t0);
      steps[name].propagationMs.push(performance.now() - t1);
    };
    for (let i = 0; i < ROUNDS; i++) {
      const id = candidates[i];
      const v = `v${i + 2}`;
      await step(
        'startCanary',
        'mutation($id: ID!) { startCanary(id: $id, trafficShare: 0.5) { id } }',
        { id },
        v,
        false,
      );
      await step(
        'promoteModelVersion',
        'mutation($id: ID!) { promoteModelVersion(id: $id) { id } }',
        { id },
        v,
        true,
      );
      await step(
        'rollbackModelVersion',
        'mutation { rollbackModelVersion(task: CHEST) { id } }',
        {},
        'v1',
        true,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
    phase = 'stop';
    await Promise.all(load);

    const summary = (xs: number[]) => ({
      n: xs.length,
      p50: r2(median(xs)),
      p90: r2(quantile(xs, 0.9)),
      max: r2(Math.max(...xs)),
    });
    const report = {
      machine:
        '2 cores (shared with other work), two API processes, PostgreSQL on loopback, chest model (1.2 M params)',
      rounds: ROUNDS,
      analysisConcurrencyOnB: CONCURRENCY,
      rolloutOnA: Object.fromEntries(
        Object.entries(steps).map(([k, s]) => [
          k,
          { mutationMs: summary(s.mutationMs), propagationToBMs: summary(s.propagationMs) },
        ]),
      ),
      peerRestartSpawnToReadyMs: summary(restartMs),
      analysisOnBMs: { quiet: summary(latency.quiet), duringRollouts: summary(latency.rollout) },
      failedAnalyses: failures.length,
      failureSamples: failures.slice(0, 3),
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'rollout.json'), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report, null, 2));
    const promote = median(steps.promoteModelVersion.propagationMs);
    console.log(
      `restart (spawn to ready) / promotion propagation to the other process: ${r2(median(restartMs) / promote)}x`,
    );
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await db.drop();
    rmSync(modelsDir, { recursive: true, force: true });
    rmSync(storageDir, { recursive: true, force: true });
  }
}

void main();

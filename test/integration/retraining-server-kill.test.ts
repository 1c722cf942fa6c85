import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Role } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { PYTHON } from '../../src/training/trainer-runner';
import { killAllServerProcesses, ServerProcess, startServerProcess } from '../support/server-process';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';
import { createOrm } from '../../src/db/orm';
import { seedUsers } from '../support/seed-users';

const SECRET = 'retraining-server-kill-secret-0123456789';

interface Run {
  id: string;
  status: string;
  phase: string | null;
  candidateVersion: string;
  error: string | null;
}

function trainerPid(runId: string): number | null {
  try {
    return Number(
      execFileSync('pgrep', ['-f', `train.py .*${runId}`], { encoding: 'utf8' })
        .trim()
        .split('\n')[0],
    );
  } catch {
    return null;
  }
}

/**
 * A server SIGKILLed while its retraining run trains: the run stays RUNNING with nothing registered,
 * its trainer stops by itself (its output pipe is gone), and once the job expires a second server
 * process restarts the run and finishes it: one registered version, no duplicate.
 */
describe('retraining survives a killed server (two server processes, one database)', () => {
  const ready =
    sharedDataAvailable() &&
    requireOrSkip(existsSync(PYTHON), `${PYTHON} with python3-torch`) &&
    requireOrSkip(existsSync('models/wrist/v1/model.onnx'), 'trained models under models/');
  let db: TestDatabase;
  let root: string;
  let token: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    if (!ready || !requireOrSkip(db.real, 'a real PostgreSQL (DATABASE_URL) for several processes')) return;
    token = (await seedUsers(db.url, SECRET, [Role.ADMIN], 'kill')).ADMIN;
    root = mkdtempSync(join(tmpdir(), 'cc-retrain-kill-'));
    for (const task of ['chest', 'wrist']) {
      mkdirSync(join(root, 'models', task), { recursive: true });
      symlinkSync(resolve('models', task, 'v1'), join(root, 'models', task, 'v1'));
    }
    env = {
      DATABASE_URL: db.url,
      AUTH_SECRET: SECRET,
      STORAGE_FS_DIR: join(root, 'objects'),
      MODELS_DIR: join(root, 'models'),
      CARE_SHARED_DIR: SHARED_DIR,
      RETRAIN_WORK_DIR: join(root, 'work'),
      RETRAIN_SMOKE: 'true',
      RETRAIN_BASE_FRACTION: '0.25',
      RETRAIN_AUTO_MIN_CORRECTIONS: '0',
      RETRAIN_WORKERS: '1',
      // The killed server's job comes back after 20 s (its heartbeat is stale by then).
      RETRAIN_JOB_EXPIRE_SECONDS: '20',
      JOB_MAINTENANCE_INTERVAL_SECONDS: '1',
      GATE_RECALL_MARGIN: '1',
      GATE_AUROC_TOLERANCE: '1',
      GATE_SPECIFICITY_TOLERANCE: '1',
      ANALYSIS_WORKERS: '0',
      DECODE_WORKERS: '0',
      DATABASE_POOL_MAX: '4',
    };
  }, 60_000);

  afterAll(async () => {
    await killAllServerProcesses();
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function gql<T>(
    server: ServerProcess,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  }

  const RUN = 'id status phase candidateVersion error';
  const read = (server: ServerProcess, id: string) =>
    gql<{ trainingRun: Run }>(server, `query($id: ID!) { trainingRun(id: $id) { ${RUN} } }`, { id }).then(
      (d) => d.trainingRun,
    );

  it('restarts the run on another server and registers it once', async () => {
    if (!ready || !db.real) return;
    const a = await startServerProcess({ ...env }, 150_000);
    const { startRetraining: queued } = await gql<{ startRetraining: Run }>(
      a,
      `mutation { startRetraining(task: WRIST) { ${RUN} } }`,
    );
    let pid: number | null = null;
    for (let i = 0; i < 1200 && pid === null; i++) {
      pid = trainerPid(queued.id);
      if (pid === null) await sleep(250);
    }
    expect(pid).toBeGreaterThan(0);
    expect(await read(a, queued.id)).toMatchObject({ status: 'RUNNING', phase: 'TRAINING' });
    await a.stop('SIGKILL');

    // The orphaned trainer stops on its own: its next log line meets a closed pipe.
    for (let i = 0; i < 480 && trainerPid(queued.id) !== null; i++) await sleep(250);
    expect(trainerPid(queued.id)).toBeNull();

    const b = await startServerProcess({ ...env }, 150_000);
    const midway = await read(b, queued.id);
    expect(midway.status).toBe('RUNNING');
    const orm = await createOrm({ url: db.url, poolMax: 1 });
    try {
      expect(await orm.em.fork().count(ModelVersion, { version: queued.candidateVersion })).toBe(0);
      let done = midway;
      for (let i = 0; i < 1200 && ['QUEUED', 'RUNNING'].includes(done.status); i++) {
        await sleep(500);
        done = await read(b, queued.id);
      }
      expect(done).toMatchObject({ status: 'SUCCEEDED', phase: null, error: null });
      expect(b.logs.some((l) => l.includes('a retraining run restarts after its worker stopped'))).toBe(true);
      const versions = await orm.em.fork().find(ModelVersion, { version: queued.candidateVersion });
      expect(versions).toHaveLength(1);
      expect(versions[0]!.trainingRun?.id).toBe(queued.id);
    } finally {
      await orm.close(true);
    }
  }, 900_000);
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Role } from '../../src/domain/enums';
import { fixtureFile } from '../support/shared-data';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';
import { killAllServerProcesses, ServerProcess, startServerProcess } from '../support/server-process';
import { subscribe, Subscription, wsClient } from '../support/ws-client';
import { seedUsers } from '../support/seed-users';

const SECRET = 'scale-out-kill-secret-scale-out-kill-secret';
const STUDIES = 12;
const FILMS = ['IM-0001-0001.jpeg', 'IM-0003-0001.jpeg', 'IM-0005-0001.jpeg'].map(
  (f) => `chest/kermany/test/NORMAL/${f}`,
);

interface JobEvent {
  analysisJobUpdated: { id: string; status: string; completed: number; failed: number; total: number };
}

/**
 * Three API processes on one PostgreSQL database behave as one service: a batch job is shared by
 * all of them, a process SIGKILLed while it holds studies of the job loses none (its items expire
 * and another process takes them) and none is read twice, and subscribers on the surviving
 * processes see the job finish.
 */
describe('scale-out: three processes, one killed mid-batch', () => {
  const ready = requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained models under models/');
  let db: TestDatabase;
  let storageDir: string;
  const servers: ServerProcess[] = [];
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    if (!ready || !requireOrSkip(db.real, 'a real PostgreSQL (DATABASE_URL) for several processes')) return;
    token = (await seedUsers(db.url, SECRET, [Role.TECHNICIAN], 'scale-out')).TECHNICIAN;
    storageDir = mkdtempSync(join(tmpdir(), 'cc-scale-out-'));
    const env = {
      DATABASE_URL: db.url,
      AUTH_SECRET: SECRET,
      STORAGE_FS_DIR: storageDir,
      LOG_LEVEL: 'debug',
      ANALYSIS_WORKERS: '2',
      // A dead worker's items come back after 6 s; the advisory lock keeps a slow live one safe.
      ANALYSIS_JOB_EXPIRE_SECONDS: '6',
      JOB_MAINTENANCE_INTERVAL_SECONDS: '1',
      DECODE_WORKERS: '0',
      ENGINE_INTRA_OP_THREADS: '1',
      DATABASE_POOL_MAX: '4',
    };
    servers.push(...(await Promise.all([0, 1, 2].map(() => startServerProcess(env, 150_000)))));
  }, 180_000);

  afterAll(async () => {
    await killAllServerProcesses();
    await db?.drop();
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });

  async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  }

  async function upload(url: string, bytes: Buffer): Promise<string> {
    const res = await fetch(`${url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${token}` },
      body: bytes,
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { uploadId: string }).uploadId;
  }

  it('loses no study and reads none twice when a process holding items is SIGKILLed', async () => {
    if (!ready || !db.real) return;
    // Records are created through all three processes: they are one service.
    const patient = await gql<{ createPatient: { id: string } }>(
      servers[0].url,
      'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
      { i: { mrn: 'SO-1', givenName: 'Scale', familyName: 'Out' } },
    );
    const studyIds: string[] = [];
    for (let i = 0; i < STUDIES; i++) {
      const url = servers[i % 3].url;
      const study = await gql<{ createStudy: { id: string } }>(
        url,
        'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
        { i: { patientId: patient.createPatient.id, bodyPart: 'CHEST', accessionNumber: `SO-ACC-${i}` } },
      );
      const uploadId = await upload(url, fixtureFile(FILMS[i % FILMS.length]));
      await gql(url, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
        i: { studyId: study.createStudy.id, uploadId, view: 'PA' },
      });
      studyIds.push(study.createStudy.id);
    }

    const clients = servers.map((s) => wsClient(s.url, token));
    const subs: Subscription<JobEvent>[] = await Promise.all(
      clients.map((c) =>
        subscribe<JobEvent>(c, 'subscription { analysisJobUpdated { id status completed failed total } }'),
      ),
    );

    // Watch the processes' logs for the first one that takes a study of the job, and kill it then.
    const taken = (s: ServerProcess) => s.logs.some((l) => l.includes('"msg":"study taken"'));
    const submitted = await gql<{ submitStudies: { id: string } }>(
      servers[0].url,
      'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
      { ids: studyIds },
    );
    const jobId = submitted.submitStudies.id;
    let victim = -1;
    const watchUntil = Date.now() + 30_000;
    while (victim < 0 && Date.now() < watchUntil) {
      victim = servers.findIndex(taken);
      if (victim < 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(victim).toBeGreaterThanOrEqual(0);
    // Killed at once, while it still holds what it took (closing its socket first gave it time to finish).
    const exited = new Promise((r) => servers[victim].child.once('exit', r));
    servers[victim].child.kill('SIGKILL');
    await exited;
    subs[victim].close();
    await clients[victim].dispose();

    const survivors = [0, 1, 2].filter((i) => i !== victim);
    const finals = await Promise.all(
      survivors.map((i) =>
        subs[i].waitFor(
          (e) =>
            e.analysisJobUpdated.id === jobId &&
            e.analysisJobUpdated.status !== 'RUNNING' &&
            e.analysisJobUpdated.status !== 'QUEUED',
          60_000,
        ),
      ),
    );
    for (const f of finals)
      expect(f.analysisJobUpdated).toMatchObject({ status: 'COMPLETED', completed: STUDIES, failed: 0 });

    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const perStudy = await pg.query<{ study_id: string; n: string }>(
        `select s.id as study_id, count(p.id) as n from study s
           left join prediction p on p.study_id = s.id and p.analysis_job_id = $1 and p.route <> 'SHADOW'
          where s.id = any($2::uuid[]) group by s.id`,
        [jobId, studyIds],
      );
      expect(perStudy.rows).toHaveLength(STUDIES);
      expect(perStudy.rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
      const job = await pg.query('select completed, failed, status from analysis_job where id = $1', [jobId]);
      expect(job.rows[0]).toEqual({ completed: STUDIES, failed: 0, status: 'COMPLETED' });
      // The killed process held at least one item: it was expired and taken again by a survivor.
      const retried = await pg.query<{ n: string }>(
        `select count(*) as n from pgboss.job where name = 'analyze-study' and retry_count > 0
           and data->>'analysisJobId' = $1`,
        [jobId],
      );
      expect(Number(retried.rows[0].n)).toBeGreaterThanOrEqual(1);
    } finally {
      await pg.end();
    }
    for (const i of survivors) {
      subs[i].close();
      await clients[i].dispose();
    }
  }, 120_000);
});

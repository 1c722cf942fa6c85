/**
 * The heatmap of a synchronous analysis is written while its prediction's rows are inserted, and the
 * transaction commits only once the heatmap is stored: a failed heatmap write leaves no prediction, and
 * a committed prediction's heatmap is always there.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Role } from '../../src/domain/enums';
import { FsObjectStore, type ObjectStore, StorageUnavailableError } from '../../src/storage';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { sharedDataAvailable } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const ready = sharedDataAvailable() && requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'chest model');

(ready ? describe : describe.skip)('heatmap write and prediction commit', () => {
  let t: TestApp;
  let tech: string;
  let radiologist: string;
  let patientId: string;
  let dir: string;
  /** What the next heatmap put does: succeed, fail, or wait for a release. */
  let heatmapPut: 'ok' | 'fail' | { until: Promise<void>; started: () => void } = 'ok';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-heatmap-store-'));
    const fs = await FsObjectStore.open(dir);
    const store: ObjectStore = Object.assign(Object.create(fs) as ObjectStore, {
      put: async (key: string, data: Buffer, opts?: object) => {
        if (key.startsWith('heatmaps/')) {
          const mode = heatmapPut;
          if (mode === 'fail')
            throw StorageUnavailableError.wrap('fs', 'put', new Error('disk gone'), { key });
          if (mode !== 'ok') {
            mode.started();
            await mode.until;
          }
        }
        return fs.put(key, data, opts);
      },
    });
    t = await startTestApp({ ANALYSIS_WORKERS: '0' }, { objectStore: store });
    tech = await t.tokenFor(Role.TECHNICIAN);
    radiologist = await t.tokenFor(Role.RADIOLOGIST);
    patientId = await createPatient(t, tech);
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves once another session holds an uncommitted write on the prediction table. */
  async function untilPredictionInsertPending(timeoutMs = 20_000): Promise<void> {
    const c = new Client({ connectionString: t.db.url });
    await c.connect();
    try {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
        const r = await c.query(
          `select count(*)::int as n from pg_locks l join pg_class k on k.oid = l.relation
            where k.relname = 'prediction' and l.mode = 'RowExclusiveLock' and l.granted
              and l.pid <> pg_backend_pid()`,
        );
        if ((r.rows[0].n as number) > 0) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error('the prediction was never inserted while its heatmap write was pending');
    } finally {
      await c.end();
    }
  }

  async function predictionsOf(studyId: string): Promise<number> {
    const c = new Client({ connectionString: t.db.url });
    await c.connect();
    try {
      const r = await c.query('select count(*)::int as n from prediction where study_id = $1', [studyId]);
      return r.rows[0].n as number;
    } finally {
      await c.end();
    }
  }

  const analyze = (studyId: string) =>
    t.gql<{ analyzeStudy: { id: string; heatmapUrl: string | null } }>(
      radiologist,
      'mutation($s: ID!) { analyzeStudy(studyId: $s) { id heatmapUrl } }',
      { s: studyId },
    );

  it('stores nothing when the heatmap cannot be written, and reads normally once it can', async () => {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    heatmapPut = 'fail';
    const failed = await analyze(studyId);
    expect(failed.errors?.[0]?.extensions?.code).toBe('STORAGE_UNAVAILABLE');
    expect(await predictionsOf(studyId)).toBe(0);

    heatmapPut = 'ok';
    const ok = await analyze(studyId);
    expect(ok.errors).toBeUndefined();
    expect(await predictionsOf(studyId)).toBe(1);
    const png = await fetch(`${t.app.url}${ok.data!.analyzeStudy.heatmapUrl}`, {
      headers: { authorization: `Bearer ${radiologist}` },
    });
    expect(png.status).toBe(200);
  });

  it('does not commit the prediction before its heatmap is stored', async () => {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    let release!: () => void;
    let started!: () => void;
    const putStarted = new Promise<void>((r) => (started = r));
    heatmapPut = { until: new Promise<void>((r) => (release = r)), started };
    const answer = analyze(studyId);
    await putStarted;
    await untilPredictionInsertPending(); // the rows are inserted meanwhile, not committed
    expect(await predictionsOf(studyId)).toBe(0);
    heatmapPut = 'ok';
    release();
    const r = await answer;
    expect(r.errors).toBeUndefined();
    expect(await predictionsOf(studyId)).toBe(1);
  });
});

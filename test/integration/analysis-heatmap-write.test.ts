/**
 * Heatmaps are rendered when someone asks for them, not at analysis: an analysis stores the raw CAM
 * with its prediction and writes nothing to the object store (a store that cannot take heatmaps does
 * not fail it); the first request renders the map, stores both PNGs and then records the key, so a
 * failed write leaves no key behind and the next request renders again; later requests read the store.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Role } from '../../src/domain/enums';
import { FsObjectStore, type ObjectStore, StorageUnavailableError } from '../../src/storage';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const ready = requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'chest model');

(ready ? describe : describe.skip)('heatmaps rendered on request', () => {
  let t: TestApp;
  let tech: string;
  let radiologist: string;
  let patientId: string;
  let dir: string;
  /** What the next heatmap put does: succeed, fail, or wait for a release. */
  let heatmapPut: 'ok' | 'fail' = 'ok';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-heatmap-store-'));
    const fs = await FsObjectStore.open(dir);
    const store: ObjectStore = Object.assign(Object.create(fs) as ObjectStore, {
      put: async (key: string, data: Buffer, opts?: object) => {
        if (key.startsWith('heatmaps/')) {
          if (heatmapPut === 'fail')
            throw StorageUnavailableError.wrap('fs', 'put', new Error('disk gone'), { key });
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

  async function storedKeyOf(predictionId: string): Promise<{ key: string | null; cam: unknown }> {
    const c = new Client({ connectionString: t.db.url });
    await c.connect();
    try {
      const r = await c.query('select heatmap_key, cam from prediction where id = $1', [predictionId]);
      return { key: r.rows[0].heatmap_key as string | null, cam: r.rows[0].cam };
    } finally {
      await c.end();
    }
  }

  const fetchHeatmap = (url: string) =>
    fetch(`${t.app.url}${url}`, { headers: { authorization: `Bearer ${radiologist}` } });

  it('analyses with no heatmap write: the prediction keeps the raw CAM and the heatmap has a URL', async () => {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    heatmapPut = 'fail';
    const r = await analyze(studyId);
    expect(r.errors).toBeUndefined();
    expect(await predictionsOf(studyId)).toBe(1);
    expect(r.data!.analyzeStudy.heatmapUrl).toBe(`/predictions/${r.data!.analyzeStudy.id}/heatmap`);
    const stored = await storedKeyOf(r.data!.analyzeStudy.id);
    expect(stored.key).toBeNull();
    // the shipped chest model's own grid and input contract (v1: 7 × 7 at 224 px; v2: 5 × 5 at 160 px)
    const manifest = t.app.engine.manifest('chest');
    const grid = manifest.outputs.find((o) => o.name === 'cam')!.shape.at(-1);
    expect(stored.cam).toMatchObject({
      width: grid,
      height: grid,
      size: manifest.input.size,
      preprocessing: manifest.preprocessing.id,
    });
  });

  it('records no key when the rendered map cannot be stored, and renders again on the next request', async () => {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    heatmapPut = 'ok';
    const { id, heatmapUrl } = (await analyze(studyId)).data!.analyzeStudy;
    heatmapPut = 'fail';
    const failed = await fetchHeatmap(heatmapUrl!);
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('STORAGE_UNAVAILABLE');
    expect((await storedKeyOf(id)).key).toBeNull();

    heatmapPut = 'ok';
    const png = await fetchHeatmap(heatmapUrl!);
    expect(png.status).toBe(200);
    expect((await png.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const { key } = await storedKeyOf(id);
    expect(key).toMatch(/^heatmaps\/.+\.png$/);
    expect(existsSync(join(dir, key!))).toBe(true);
  });

  it('serves a rendered map from the store afterwards (no second render), bare map included', async () => {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    heatmapPut = 'ok';
    const { heatmapUrl } = (await analyze(studyId)).data!.analyzeStudy;
    const first = Buffer.from(await (await fetchHeatmap(heatmapUrl!)).arrayBuffer());
    // Any further put of a heatmap would now fail: a second render would answer 503.
    heatmapPut = 'fail';
    const again = await fetchHeatmap(heatmapUrl!);
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).equals(first)).toBe(true);
    const bare = await fetchHeatmap(`${heatmapUrl}?overlay=false`);
    expect(bare.status).toBe(200);
    expect(Buffer.from(await bare.arrayBuffer()).equals(first)).toBe(false);
  });

  it('has no per-view maps for a model that reads the study as one input; a malformed view is refused', async () => {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    heatmapPut = 'ok';
    const r = await t.gql<{
      analyzeStudy: {
        heatmapUrl: string;
        inputs: { view: string; gateVerdict: string | null; heatmapUrl: string | null }[];
      };
    }>(
      radiologist,
      'mutation($s: ID!) { analyzeStudy(studyId: $s) { heatmapUrl inputs { view gateVerdict probability flagged heatmapUrl } } }',
      {
        s: studyId,
      },
    );
    const { heatmapUrl, inputs } = r.data!.analyzeStudy;
    expect(inputs).toEqual([
      { view: 'PA', gateVerdict: null, probability: null, flagged: null, heatmapUrl: null },
    ]);
    const perView = await fetchHeatmap(`${heatmapUrl}?view=0`);
    expect(perView.status).toBe(404);
    for (const view of ['x', '-1', '1.5', '123']) {
      const bad = await fetchHeatmap(`${heatmapUrl}?view=${view}`);
      expect([view, bad.status]).toEqual([view, 400]);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_USER_INPUT');
    }
  });
});

import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelStage, ModelTask, Role } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { studyShare } from '../../src/domain/analysis/model-routing';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

/** A model repository with the shipped chest model under two version names. */
function twoVersionRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cc-models-'));
  mkdirSync(join(dir, 'chest'));
  symlinkSync(resolve('models/chest/v1'), join(dir, 'chest', 'v1'));
  symlinkSync(resolve('models/chest/v1'), join(dir, 'chest', 'v2'));
  return dir;
}

describe('canary and shadow routing by model version', () => {
  const ready = requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained chest model under models/');
  let modelsDir: string;
  const apps: TestApp[] = [];

  beforeAll(() => {
    if (ready) modelsDir = twoVersionRepository();
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  });

  /**
   * An app whose chest v2 is PRODUCTION and v1 a 50% CANARY. `v1Stage`: v1's stage on start (STAGING beside a
   * copy of itself; ARCHIVED beside the real v2, whose promotion gate passed and replaced its parent).
   */
  async function setUp(
    env: Record<string, string>,
    { dir = modelsDir, v1Stage = ModelStage.STAGING }: { dir?: string; v1Stage?: ModelStage } = {},
  ) {
    const t = await startTestApp({ MODELS_DIR: dir, ANALYSIS_WORKERS: '0', ...env });
    apps.push(t);
    const em = t.app.orm.em.fork();
    const versions = await em.find(ModelVersion, { task: ModelTask.CHEST }, { orderBy: { version: 'asc' } });
    expect(versions.map((v) => [v.version, v.stage])).toEqual([
      ['v1', v1Stage],
      ['v2', ModelStage.PRODUCTION],
    ]);
    versions[0].stage = ModelStage.CANARY;
    versions[0].trafficShare = 0.5;
    await em.flush();
    await t.app.engine.loadVersion('chest', 'v1', versions[0].artifactPath, { activate: false });
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const radiologist = await t.tokenFor(Role.RADIOLOGIST);
    const patientId = await createPatient(t, tech);
    return { t, tech, radiologist, patientId };
  }

  async function analyzeNew(t: TestApp, tech: string, radiologist: string, patientId: string) {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0005-0001.jpeg', 'PA');
    const r = await t.gql<{ analyzeStudy: { id: string; route: string } }>(
      radiologist,
      'mutation($s: ID!) { analyzeStudy(studyId: $s) { id route } }',
      { s: studyId },
    );
    expect(r.errors).toBeUndefined();
    const rows = await t.app.orm.em
      .getConnection()
      .execute(
        'select p.route, m.version from prediction p join model_version m on m.id = p.model_version_id where p.study_id = ? order by p.route',
        [studyId],
      );
    return {
      studyId,
      returned: r.data!.analyzeStudy.route,
      rows: rows as { route: string; version: string }[],
    };
  }

  it('sends a stable share of studies to the canary and the rest to production', async () => {
    if (!ready) return;
    const { t, tech, radiologist, patientId } = await setUp({});
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) {
      const { studyId, returned, rows } = await analyzeNew(t, tech, radiologist, patientId);
      const expected = studyShare(studyId) < 0.5 ? 'CANARY' : 'PRODUCTION';
      expect(returned).toBe(expected);
      expect(rows).toEqual([{ route: expected, version: expected === 'CANARY' ? 'v1' : 'v2' }]);
      seen.add(expected);
    }
    expect(seen.size).toBe(2);
  });

  it('in shadow mode runs both, returns production and records the canary as SHADOW', async () => {
    if (!ready) return;
    const { t, tech, radiologist, patientId } = await setUp({ SHADOW_MODE: 'true' });
    const { returned, rows } = await analyzeNew(t, tech, radiologist, patientId);
    expect(returned).toBe('PRODUCTION');
    expect(rows).toEqual([
      { route: 'PRODUCTION', version: 'v2' },
      { route: 'SHADOW', version: 'v1' },
    ]);
  });

  it('in shadow mode reads one film under two input contracts (chest v2 at 160 px equalised, v1 at 224 px)', async () => {
    if (!ready || !existsSync('models/chest/v2/model.onnx')) return;
    // Regression: the file fetched for the first contract was handed to the decode pool whole and detached, so
    // the second contract's prepare threw (a "copy" that was a Buffer view) and the analysis failed with a 500.
    const dir = mkdtempSync(join(tmpdir(), 'cc-models-'));
    mkdirSync(join(dir, 'chest'));
    symlinkSync(resolve('models/chest/v1'), join(dir, 'chest', 'v1'));
    symlinkSync(resolve('models/chest/v2'), join(dir, 'chest', 'v2'));
    try {
      const { t, tech, radiologist, patientId } = await setUp(
        { SHADOW_MODE: 'true' },
        { dir, v1Stage: ModelStage.ARCHIVED },
      );
      expect(t.app.engine.manifest('chest', 'v1').input.size).not.toBe(
        t.app.engine.manifest('chest', 'v2').input.size,
      );
      const { returned, rows } = await analyzeNew(t, tech, radiologist, patientId);
      expect(returned).toBe('PRODUCTION');
      expect(rows).toEqual([
        { route: 'PRODUCTION', version: 'v2' },
        { route: 'SHADOW', version: 'v1' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

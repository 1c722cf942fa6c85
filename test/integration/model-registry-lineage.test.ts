/**
 * The repository sync reads a version's lineage from its model.json: the parent it replaces, its
 * leave-one-source-out metrics, and whether it beat the parent (a version that failed its promotion gate
 * is registered but never made PRODUCTION by default). On a fresh install the newest eligible version
 * serves and its parent is archived as the rollback target.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Role } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { CHEST_V1, chestModelAvailable } from '../support/model-repository';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const ready = requireOrSkip(chestModelAvailable(), 'trained chest model under models/chest/v1');
const describeReal = ready ? describe : describe.skip;

/** A version folder: the committed chest weights with a model.json carrying `lineage` and `loso`. */
function addVersion(dir: string, version: string, lineage: Record<string, unknown>): void {
  const target = join(dir, 'chest', version);
  mkdirSync(target);
  for (const f of readdirSync(CHEST_V1))
    if (f !== 'model.json') symlinkSync(join(CHEST_V1, f), join(target, f));
  const m = JSON.parse(readFileSync(join(CHEST_V1, 'model.json'), 'utf8'));
  writeFileSync(
    join(target, 'model.json'),
    JSON.stringify({
      ...m,
      version,
      lineage,
      loso: {
        folds: { 'nih+rsna': { n: 10, aurocAbnormal: { value: 0.7, ci95: [0.6, 0.8], n: 10 }, gate: {} } },
        pooled: { aurocAbnormal: { value: 0.8, ci95: [0.7, 0.9], n: 30 } },
      },
    }),
  );
}

describeReal('model registry lineage from model.json', () => {
  let t: TestApp;
  let modelsDir: string;

  beforeAll(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'cc-lineage-'));
    mkdirSync(join(modelsDir, 'chest'));
    symlinkSync(CHEST_V1, join(modelsDir, 'chest', 'v1'));
    addVersion(modelsDir, 'v2', {
      parentVersion: 'v1',
      promotionGate: { metric: 'pooled LOSO AUROC', parent: 0.6, candidate: 0.8, passed: true },
    });
    addVersion(modelsDir, 'v3', {
      parentVersion: 'v2',
      promotionGate: { metric: 'pooled LOSO AUROC', parent: 0.8, candidate: 0.7, passed: false },
    });
    t = await startTestApp({
      MODELS_DIR: modelsDir,
      ANALYSIS_WORKERS: '0',
      MODEL_RECONCILE_INTERVAL_MS: '0',
    });
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  const versions = async () => {
    const rows = await t.app.orm.em
      .fork()
      .find(ModelVersion, { task: 'CHEST' as never }, { populate: ['parent', 'previousProduction'] });
    return Object.fromEntries(rows.map((v) => [v.version, v]));
  };

  it('serves the newest version that passed its gate, with its parent archived as the rollback target', async () => {
    const v = await versions();
    expect(Object.fromEntries(Object.entries(v).map(([k, m]) => [k, m.stage]))).toEqual({
      v1: 'ARCHIVED',
      v2: 'PRODUCTION',
      v3: 'STAGING',
    });
    expect(v.v2!.parent?.version).toBe('v1');
    expect(v.v3!.parent?.version).toBe('v2');
    expect(v.v2!.previousProduction?.version).toBe('v1');
    expect(v.v2!.metrics).toMatchObject({
      loso: { pooled: { aurocAbnormal: { value: 0.8 } }, folds: { 'nih+rsna': { n: 10 } } },
    });
    expect(t.app.engine.activeVersion('chest')).toBe('v2');
  });

  it('rolls back to the parent', async () => {
    const admin = await t.tokenFor(Role.ADMIN);
    const r = await t.gql<{ rollbackModelVersion: { version: string; stage: string }[] }>(
      admin,
      'mutation { rollbackModelVersion(task: CHEST) { version stage } }',
    );
    expect(r.errors).toBeUndefined();
    const v = await versions();
    expect([v.v1!.stage, v.v2!.stage]).toEqual(['PRODUCTION', 'ARCHIVED']);
  });
});

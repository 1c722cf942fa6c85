import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { ModelTask, Role, TrainingRunStatus } from '../../src/domain/enums';
import { TrainingRun } from '../../src/domain/training-run/training-run.entity';
import { PYTHON } from '../../src/training/trainer-runner';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const RUN = `id status trigger runner candidateVersion phase correctionsUsed manifestSha256 datasetCounts metrics gateVerdict error startedAt finishedAt`;

interface Run {
  id: string;
  status: string;
  trigger: string;
  runner: string | null;
  candidateVersion: string;
  phase: string | null;
  correctionsUsed: number;
  manifestSha256: string | null;
  datasetCounts: Record<string, unknown> | null;
  metrics: Record<string, any> | null;
  gateVerdict: Record<string, any> | null;
  error: string | null;
}

/**
 * The retraining loop end to end with the real trainer in --smoke mode (a few batches) on a quarter
 * of the wrist patients plus corrections. The gate here is configured loose (margin and tolerances 1)
 * so that a smoke model can pass and the registration path runs; the gate's decisions on real
 * figures, passing and failing, are in src/training/gate.spec.ts.
 */
describe('retraining from corrections (smoke trainer, local runner)', () => {
  const ready =
    sharedDataAvailable() &&
    requireOrSkip(existsSync(PYTHON), `${PYTHON} with python3-torch`) &&
    requireOrSkip(existsSync('models/wrist/v1/model.onnx'), 'trained models under models/');
  let t: TestApp;
  let tech: string;
  let radiologist: string;
  let admin: string;
  let root: string;
  let modelsDir: string;

  beforeAll(async () => {
    if (!ready) return;
    root = mkdtempSync(join(tmpdir(), 'cc-retrain-'));
    modelsDir = join(root, 'models');
    for (const task of ['chest', 'wrist']) {
      mkdirSync(join(modelsDir, task), { recursive: true });
      symlinkSync(resolve('models', task, 'v1'), join(modelsDir, task, 'v1'));
    }
    t = await startTestApp({
      ANALYSIS_WORKERS: '0',
      MODELS_DIR: modelsDir,
      CARE_SHARED_DIR: SHARED_DIR,
      RETRAIN_WORK_DIR: join(root, 'work'),
      RETRAIN_SMOKE: 'true',
      RETRAIN_BASE_FRACTION: '0.25',
      RETRAIN_AUTO_MIN_CORRECTIONS: '2',
      RETRAIN_WORKERS: '1',
      GATE_RECALL_MARGIN: '1',
      GATE_AUROC_TOLERANCE: '1',
      GATE_SPECIFICITY_TOLERANCE: '1',
    });
    tech = await t.tokenFor(Role.TECHNICIAN);
    radiologist = await t.tokenFor(Role.RADIOLOGIST);
    admin = await t.tokenFor(Role.ADMIN);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function run(id: string): Promise<Run> {
    const query = () =>
      t.gql<{ trainingRun: Run }>(admin, `query($id: ID!) { trainingRun(id: $id) { ${RUN} } }`, { id });
    // A poll may meet a keep-alive socket the server is closing (ECONNRESET); a read is safe to repeat.
    const r = await query().catch(() => query());
    expect(r.errors).toBeUndefined();
    return r.data!.trainingRun;
  }

  async function until(id: string, done: (r: Run) => boolean, timeoutMs: number): Promise<Run> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await run(id);
      if (done(r)) return r;
      if (Date.now() > end) throw new Error(`run ${id} still ${r.status}/${r.phase}`);
      await sleep(500);
    }
  }

  const finished = (r: Run) => !['QUEUED', 'RUNNING'].includes(r.status);

  async function correctedWristStudy(label: string): Promise<void> {
    const images = readdirSync(join(SHARED_DIR, 'datasets/bone/valid/images')).sort();
    const patientId = await createPatient(t, tech);
    const studyId = await createStudy(t, tech, patientId, 'WRIST');
    await attach(t, tech, studyId, `bone/valid/images/${images[label === 'FRACTURE' ? 0 : 1]}`, 'PA');
    await attach(t, tech, studyId, `bone/valid/images/${images[label === 'FRACTURE' ? 2 : 3]}`, 'LATERAL');
    const p = await t.gql<{ analyzeStudy: { id: string } }>(
      radiologist,
      'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }',
      { s: studyId },
    );
    expect(p.errors).toBeUndefined();
    const c = await t.gql(
      radiologist,
      'mutation($i: SubmitCorrectionInput!) { submitCorrection(input: $i) { id retrainingCopies } }',
      { i: { predictionId: p.data!.analyzeStudy.id, label } },
    );
    expect(c.errors).toBeUndefined();
  }

  it('starts by itself after enough corrections, trains, evaluates against production, and registers a STAGING version', async () => {
    if (!ready) return;
    await correctedWristStudy('FRACTURE');
    expect(await t.app.orm.em.fork().count(TrainingRun, { trigger: { $in: ['AUTO', 'MANUAL'] } })).toBe(0);
    await correctedWristStudy('NO_FRACTURE');
    let auto: TrainingRun | null = null;
    for (let i = 0; i < 100 && !auto; i++) {
      auto = await t.app.orm.em.fork().findOne(TrainingRun, { task: ModelTask.WRIST, trigger: 'AUTO' });
      if (!auto) await sleep(100);
    }
    expect(auto).toMatchObject({ trigger: 'AUTO' });

    // One active run per task.
    const second = await t.gql(admin, 'mutation { startRetraining(task: WRIST) { id } }');
    expect(second.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);

    const done = await until(auto!.id, finished, 420_000);
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      runner: 'local',
      phase: null,
      correctionsUsed: 2,
      error: null,
    });
    expect(done.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    // two corrected wrist studies, two views each
    expect(done.datasetCounts).toMatchObject({ corrections: 4 });
    const verdict = done.gateVerdict!;
    expect(verdict.passed).toBe(true);
    expect(verdict.production).toBe('care-companion-wrist@v1');
    expect(verdict.checks.map((c: { check: string }) => c.check).sort()).toEqual([
      'AUROC_NON_INFERIOR',
      'RECALL_TARGET',
      'SPECIFICITY_NON_INFERIOR',
    ]);
    const split = done.metrics!.testSplit;
    expect(split.candidate.n).toBe(split.production.n);
    expect(split.candidate.n).toBeGreaterThan(0);
    expect(
      verdict.checks.find((c: { check: string }) => c.check === 'AUROC_NON_INFERIOR').candidate,
    ).toBeCloseTo(split.candidate.aurocPerClass.FRACTURE, 4);

    const em = t.app.orm.em.fork();
    const version = await em.findOneOrFail(
      ModelVersion,
      { version: done.candidateVersion },
      { populate: ['parent'] },
    );
    expect(version).toMatchObject({ task: 'WRIST', stage: 'STAGING', manifestSha256: done.manifestSha256 });
    expect(version.trainingRun?.id).toBe(done.id);
    expect(version.parent?.version).toBe('v1');
    expect(existsSync(join(modelsDir, 'wrist', done.candidateVersion, 'model.onnx'))).toBe(true);
    expect(readdirSync(join(modelsDir, '.staging'))).toEqual([]);
    const audit = await em
      .getConnection()
      .execute(`select operation from audit_event where entity_type = 'ModelVersion' and entity_id = ?`, [
        version.id,
      ]);
    expect(audit).toEqual([{ operation: 'retraining' }]);
  }, 480_000);

  it('a killed trainer ends the run FAILED with nothing registered', async () => {
    if (!ready) return;
    const start = await t.gql<{ startRetraining: Run }>(
      admin,
      `mutation { startRetraining(task: WRIST) { ${RUN} } }`,
    );
    expect(start.errors).toBeUndefined();
    const queued = start.data!.startRetraining;
    expect(queued).toMatchObject({ status: 'QUEUED', trigger: 'MANUAL' });
    await until(queued.id, (r) => r.phase === 'TRAINING' || finished(r), 300_000);
    let pid: number | null = null;
    for (let i = 0; i < 200 && pid === null; i++) {
      try {
        const out = execFileSync('pgrep', ['-f', `train.py .*${queued.id}`], { encoding: 'utf8' }).trim();
        pid = Number(out.split('\n')[0]);
      } catch {
        await sleep(100);
      }
    }
    expect(pid).toBeGreaterThan(0);
    await sleep(2000);
    process.kill(pid!, 'SIGKILL');
    const failed = await until(queued.id, finished, 120_000);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/trainer exited with SIGKILL/);
    expect(await t.app.orm.em.fork().count(ModelVersion, { version: queued.candidateVersion })).toBe(0);
    expect(existsSync(join(modelsDir, 'wrist', queued.candidateVersion))).toBe(false);
  }, 420_000);

  it('a run that stopped while registering (server crash) is finished once on retry, never duplicated', async () => {
    if (!ready) return;
    const em = t.app.orm.em.fork();
    const trained = await em.findOneOrFail(TrainingRun, {
      status: TrainingRunStatus.SUCCEEDED,
      trigger: 'AUTO',
    });
    const run = em.create(TrainingRun, {
      task: ModelTask.WRIST,
      status: TrainingRunStatus.RUNNING,
      trigger: 'MANUAL',
      phase: 'REGISTERING',
      candidateVersion: 'rt-resumed',
      manifestSha256: trained.manifestSha256,
      gateVerdict: { passed: true },
    } as unknown as TrainingRun);
    await em.flush();
    cpSync(join(modelsDir, 'wrist', trained.candidateVersion!), join(root, 'work', run.id, 'candidate'), {
      recursive: true,
    });
    const job = { id: 'j1', data: { trainingRunId: run.id }, retryCount: 1, retryLimit: 2 };
    await t.app.retraining.handle(job);
    await t.app.retraining.handle(job);
    const fresh = t.app.orm.em.fork();
    expect(await fresh.findOneOrFail(TrainingRun, { id: run.id })).toMatchObject({
      status: 'SUCCEEDED',
      phase: null,
    });
    const versions = await fresh.find(ModelVersion, { version: 'rt-resumed' });
    expect(versions).toHaveLength(1);
    expect(versions[0]!.trainingRun?.id).toBe(run.id);

    // Crash after the move but before the commit: the folder is there, the row is not; the retry links it.
    const run2 = fresh.create(TrainingRun, {
      task: ModelTask.WRIST,
      status: TrainingRunStatus.RUNNING,
      trigger: 'MANUAL',
      phase: 'REGISTERING',
      candidateVersion: 'rt-moved',
      gateVerdict: { passed: true },
    } as unknown as TrainingRun);
    await fresh.flush();
    cpSync(join(modelsDir, 'wrist', trained.candidateVersion!), join(modelsDir, 'wrist', 'rt-moved'), {
      recursive: true,
    });
    await t.app.retraining.handle({ ...job, data: { trainingRunId: run2.id } });
    const after = t.app.orm.em.fork();
    expect(await after.findOneOrFail(TrainingRun, { id: run2.id })).toMatchObject({ status: 'SUCCEEDED' });
    expect(await after.count(ModelVersion, { version: 'rt-moved' })).toBe(1);

    // A job that expired while its worker still beats the heartbeat is not trained twice.
    const alive = after.create(TrainingRun, {
      task: ModelTask.WRIST,
      status: TrainingRunStatus.RUNNING,
      trigger: 'MANUAL',
      phase: 'TRAINING',
      candidateVersion: 'rt-alive',
      heartbeatAt: new Date(),
    } as unknown as TrainingRun);
    await after.flush();
    await expect(
      t.app.retraining.handle({ ...job, data: { trainingRunId: alive.id } }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await t.app.orm.em.fork().findOneOrFail(TrainingRun, { id: alive.id })).toMatchObject({
      status: 'RUNNING',
      phase: 'TRAINING',
    });
    expect(existsSync(join(root, 'work', alive.id))).toBe(false);
  }, 120_000);
  it('a candidate that fails the gate is REJECTED with its verdict and numbers stored, and nothing registered', async () => {
    if (!ready) return;
    const em = t.app.orm.em.fork();
    // An unattainable recall requirement (target + 0.5) makes the outcome certain whatever the smoke model learnt.
    const rejected = em.create(TrainingRun, {
      task: ModelTask.WRIST,
      status: TrainingRunStatus.QUEUED,
      trigger: 'MANUAL',
      candidateVersion: 'rt-rejected',
      parameters: { gate: { recallMargin: -0.5, aurocTolerance: 0.02, specificityTolerance: 0.05 } },
    } as unknown as TrainingRun);
    await em.flush();
    await t.app.retraining.handle({
      id: 'j-rejected',
      data: { trainingRunId: rejected.id },
      retryCount: 0,
      retryLimit: 3,
    });
    const done = await run(rejected.id);
    expect(done).toMatchObject({ status: 'REJECTED', phase: null, error: null });
    const verdict = done.gateVerdict!;
    expect(verdict.passed).toBe(false);
    const recall = verdict.checks.find((c: { check: string }) => c.check === 'RECALL_TARGET');
    expect(recall).toMatchObject({ label: 'FRACTURE', required: 1.49, passed: false });
    expect(recall.candidate).toBe(
      Math.round(done.metrics!.testSplit.candidate.atThresholds.FRACTURE.recall * 1e4) / 1e4,
    );
    expect(verdict.reasons[0]).toMatch(/^RECALL_TARGET FRACTURE: /);
    expect(done.metrics!.testSplit.production.model).toBe('care-companion-wrist@v1');
    expect(await t.app.orm.em.fork().count(ModelVersion, { version: 'rt-rejected' })).toBe(0);
    expect(existsSync(join(modelsDir, 'wrist', 'rt-rejected'))).toBe(false);
  }, 480_000);
});

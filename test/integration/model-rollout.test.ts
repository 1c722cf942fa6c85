/**
 * Model rollout on one server with the real chest model: legal and illegal transitions, canary
 * routing, promotion and rollback applied to the running engine, concurrency (two admins at once),
 * a version whose weights do not load, lineage, registry events and the predictions filter.
 */
import { rmSync } from 'node:fs';
import { ModelStage, Role } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import {
  addBrokenChestVersion,
  addChestVersion,
  chestModelAvailable,
  chestRepository,
  registerStaging,
} from '../support/model-repository';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';
import { subscribe, untilReceived, wsClient } from '../support/ws-client';

const ready = requireOrSkip(chestModelAvailable(), 'trained chest model under models/chest/v1');
const describeReal = ready ? describe : describe.skip;

const VERSION_FIELDS = 'id version stage trafficShare previousProductionId promotedAt';
type Version = {
  id: string;
  version: string;
  stage: ModelStage;
  trafficShare: number;
  previousProductionId: string | null;
};
const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

describeReal('model registry rollout (one server, real chest model)', () => {
  let t: TestApp;
  let modelsDir: string;
  let admin: string;
  let admin2: string;
  let radiologist: string;
  let tech: string;
  let patientId: string;
  const ids: Record<string, string> = {};
  let v4Stage = 'STAGING';

  const stages = async () => {
    const rows = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select version, stage from model_version where task = 'CHEST' order by version`)) as {
      version: string;
      stage: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.version, r.stage]));
  };
  const loaded = () =>
    t.app.engine
      .health()
      .filter((h) => h.task === 'chest' && !h.draining)
      .map((h) => `${h.version}${h.active ? '*' : ''}`)
      .sort();
  const mutate = (token: string, field: string, args: string, vars: Record<string, unknown>) =>
    t.gql<Record<string, Version>>(token, `mutation(${args}) { ${field} { ${VERSION_FIELDS} } }`, vars);
  const startCanary = (id: string, share: number, token = admin) =>
    mutate(token, `startCanary(id: $id, trafficShare: $s)`, '$id: ID!, $s: Float!', { id, s: share });
  const setShare = (id: string, share: number) =>
    mutate(admin, `setCanaryShare(id: $id, trafficShare: $s)`, '$id: ID!, $s: Float!', { id, s: share });
  const promote = (id: string, token = admin) =>
    mutate(token, 'promoteModelVersion(id: $id)', '$id: ID!', { id });
  const rollback = (token = admin) =>
    mutate(token, 'rollbackModelVersion(task: $t)', '$t: ModelTask!', { t: 'CHEST' });
  const archive = (id: string) => mutate(admin, 'archiveModelVersion(id: $id)', '$id: ID!', { id });

  /** A raw UPDATE (not through the rollout service) that the partial unique index must refuse. */
  async function expectRefusedByIndex(id: string, stage: 'PRODUCTION' | 'CANARY'): Promise<void> {
    const conn = t.app.orm.em.fork().getConnection();
    await conn.execute(`update model_version set stage = ? where id = ?`, [stage, id]).then(
      () => {
        throw new Error(`a second ${stage} row was accepted`);
      },
      (error: Error) => expect(error.message).toContain(`model_version_one_${stage.toLowerCase()}_per_task`),
    );
  }

  async function analyzeNew(): Promise<{ id: string; route: string; modelVersionId: string }> {
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0005-0001.jpeg', 'PA');
    const r = await t.gql<{ analyzeStudy: { id: string; route: string; modelVersionId: string } }>(
      radiologist,
      'mutation($s: ID!) { analyzeStudy(studyId: $s) { id route modelVersionId } }',
      { s: studyId },
    );
    expect(r.errors).toBeUndefined();
    return r.data!.analyzeStudy;
  }

  beforeAll(async () => {
    modelsDir = chestRepository(['v1']);
    t = await startTestApp({
      MODELS_DIR: modelsDir,
      ANALYSIS_WORKERS: '0',
      MODEL_RECONCILE_INTERVAL_MS: '0',
    });
    const em = t.app.orm.em.fork();
    const v1 = await em.findOneOrFail(ModelVersion, { version: 'v1' });
    ids.v1 = v1.id;
    // Candidates registered by the trainer after start-up (the server has never seen them).
    const v2 = await registerStaging(em, {
      version: 'v2',
      dir: addChestVersion(modelsDir, 'v2'),
      parent: v1,
      gateVerdict: { passed: true, recall: { PNEUMONIA: 0.97 } },
    });
    ids.v2 = v2.id;
    ids.v3 = (
      await registerStaging(em, { version: 'v3', dir: addChestVersion(modelsDir, 'v3'), parent: v2 })
    ).id;
    ids.v4 = (await registerStaging(em, { version: 'v4', dir: addChestVersion(modelsDir, 'v4') })).id;
    ids.broken = (
      await registerStaging(em, { version: 'v9', dir: addBrokenChestVersion(modelsDir, 'v9') })
    ).id;
    admin = await t.tokenFor(Role.ADMIN);
    admin2 = await t.tokenFor(Role.ADMIN);
    radiologist = await t.tokenFor(Role.RADIOLOGIST);
    tech = await t.tokenFor(Role.TECHNICIAN);
    patientId = await createPatient(t, tech);
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  });

  it('starts with the only version on disk in PRODUCTION, loaded and active', async () => {
    expect(await stages()).toEqual({
      v1: 'PRODUCTION',
      v2: 'STAGING',
      v3: 'STAGING',
      v4: 'STAGING',
      v9: 'STAGING',
    });
    expect(loaded()).toEqual(['v1*']);
  });

  it('refuses illegal transitions with ILLEGAL_MODEL_TRANSITION and changes nothing', async () => {
    const writesBefore = await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select count(*)::int as n from audit_event where entity_type = 'ModelVersion'`);
    const cases = [
      await promote(ids.v2), // STAGING cannot skip the canary
      await archive(ids.v1), // PRODUCTION is only replaced or rolled back
      await setShare(ids.v2, 0.5), // not a canary
      await rollback(), // v1 replaced nothing
    ];
    for (const r of cases) {
      expect(codes(r.errors)).toEqual(['ILLEGAL_MODEL_TRANSITION']);
    }
    expect(
      cases.map((r) => (r.errors![0].extensions as { details?: { reason?: string } }).details?.reason),
    ).toEqual(['STAGE_NOT_ALLOWED', 'STAGE_NOT_ALLOWED', 'STAGE_NOT_ALLOWED', 'NO_ROLLBACK_TARGET']);
    expect(codes((await startCanary(ids.v2, 1.5)).errors)).toEqual(['BAD_USER_INPUT']);
    expect(codes((await startCanary(ids.v2, 0.5, radiologist)).errors)).toEqual(['FORBIDDEN']);
    expect(codes((await startCanary('00000000-0000-4000-8000-000000000000', 0.5)).errors)).toEqual([
      'NOT_FOUND',
    ]);
    expect(await stages()).toEqual({
      v1: 'PRODUCTION',
      v2: 'STAGING',
      v3: 'STAGING',
      v4: 'STAGING',
      v9: 'STAGING',
    });
    const writesAfter = await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select count(*)::int as n from audit_event where entity_type = 'ModelVersion'`);
    expect(writesAfter).toEqual(writesBefore);
  });

  it('refuses a canary whose weights do not load (MODEL_LOAD_FAILED) and leaves it STAGING', async () => {
    const r = await startCanary(ids.broken, 0.5);
    expect(codes(r.errors)).toEqual(['MODEL_LOAD_FAILED']);
    expect((await stages()).v9).toBe('STAGING');
    const history = await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select count(*)::int as n from model_stage_change where model_version_id = ?`, [ids.broken]);
    expect(history).toEqual([{ n: 0 }]);
    expect(loaded()).toEqual(['v1*']);
  });

  it('starts a canary, pushes modelVersionChanged, loads it beside production and routes its share there', async () => {
    const client = wsClient(t.app.url, radiologist);
    const sub = await subscribe<{
      modelVersionChanged: { kind: string; fromStage: string; toStage: string; modelVersion: Version };
    }>(
      client,
      'subscription { modelVersionChanged(task: CHEST) { kind fromStage toStage modelVersion { id version stage trafficShare } } }',
    );
    const wrist = await subscribe<{ modelVersionChanged: { kind: string } }>(
      client,
      'subscription { modelVersionChanged(task: WRIST) { kind } }',
    );
    const started = await startCanary(ids.v2, 0.5);
    expect(started.errors).toBeUndefined();
    expect(started.data!.startCanary).toMatchObject({ version: 'v2', stage: 'CANARY', trafficShare: 0.5 });
    expect(loaded()).toEqual(['v1*', 'v2']);
    const event = await untilReceived(sub, async (attempt) => {
      const share = 0.5 + (attempt + 1) / 100;
      expect((await setShare(ids.v2, share)).errors).toBeUndefined();
      // The version in an event is read when it is delivered, so CANARY_STARTED may already show the new share.
      return (e) =>
        e.modelVersionChanged.kind === 'CANARY_SHARE_CHANGED' &&
        e.modelVersionChanged.modelVersion.trafficShare === share;
    });
    expect(event.modelVersionChanged).toMatchObject({
      kind: 'CANARY_SHARE_CHANGED',
      fromStage: 'CANARY',
      toStage: 'CANARY',
      modelVersion: { id: ids.v2, version: 'v2', stage: 'CANARY' },
    });
    expect(wrist.events).toEqual([]);
    sub.close();
    wrist.close();
    await client.dispose();

    // The database itself refuses a second canary for the task.
    await expectRefusedByIndex(ids.v4, 'CANARY');
    expect((await stages()).v4).toBe('STAGING');

    // Share 1: every study now goes to the canary.
    expect((await setShare(ids.v2, 1)).data!.setCanaryShare.trafficShare).toBe(1);
    const p = await analyzeNew();
    expect(p).toMatchObject({ route: 'CANARY', modelVersionId: ids.v2 });
  });

  it('lets exactly one of two admins start a canary when both try at once', async () => {
    // v2 is the canary: archive it first (stops the canary), then race v3 against v4.
    expect((await archive(ids.v2)).data!.archiveModelVersion.stage).toBe('ARCHIVED');
    const [a, b] = await Promise.all([startCanary(ids.v3, 0.2), startCanary(ids.v4, 0.2, admin2)]);
    const outcomes = [codes(a.errors), codes(b.errors)].map((c) => c.join() || 'OK').sort();
    expect(outcomes).toEqual(['ILLEGAL_MODEL_TRANSITION', 'OK']);
    const s = await stages();
    expect([s.v3, s.v4].sort()).toEqual(['CANARY', 'STAGING']);
    // Either way continue with v3 as the canary (v4 ends ARCHIVED if it won, else stays STAGING).
    v4Stage = s.v4 === 'CANARY' ? 'ARCHIVED' : 'STAGING';
    if (s.v4 === 'CANARY') expect((await archive(ids.v4)).errors).toBeUndefined();
    if (s.v4 === 'CANARY') expect((await startCanary(ids.v3, 0.2)).errors).toBeUndefined();
  });

  it('promotes under a race: exactly one PRODUCTION, the old one archived, the engine swapped without a restart', async () => {
    const [a, b] = await Promise.all([promote(ids.v3), promote(ids.v3, admin2)]);
    const outcomes = [codes(a.errors), codes(b.errors)].map((c) => c.join() || 'OK').sort();
    expect(outcomes).toEqual(['ILLEGAL_MODEL_TRANSITION', 'OK']);
    const promoted = (a.data?.promoteModelVersion ?? b.data?.promoteModelVersion)!;
    expect(promoted).toMatchObject({ version: 'v3', stage: 'PRODUCTION', previousProductionId: ids.v1 });
    expect(await stages()).toEqual({
      v1: 'ARCHIVED',
      v2: 'ARCHIVED',
      v3: 'PRODUCTION',
      v4: v4Stage,
      v9: 'STAGING',
    });
    const counts = await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select count(*)::int as n from model_version where task = 'CHEST' and stage = 'PRODUCTION'`);
    expect(counts).toEqual([{ n: 1 }]);
    expect(t.app.engine.activeVersion('chest')).toBe('v3');
    expect(await analyzeNew()).toMatchObject({ route: 'PRODUCTION', modelVersionId: ids.v3 });
    // v1 and v2 are retired from the engine once nothing holds them.
    await waitFor(() => loaded().join() === 'v3*');
  });

  it('has the database refuse a second PRODUCTION row for a task, whatever writes it', async () => {
    // v3 is PRODUCTION: a second one is refused by the index (the CANARY index is checked while v2 is the canary).
    await expectRefusedByIndex(ids.v4, 'PRODUCTION');
    expect((await stages()).v4).toBe(v4Stage);
  });

  it('audits every stage change with the admin who made it', async () => {
    const rows = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select a.entity_id, a.action, a.actor_role, a.operation from audit_event a where a.entity_type = 'ModelVersion' order by a.created_at`,
      )) as { entity_id: string; action: string; actor_role: string; operation: string }[];
    expect(rows.every((r) => r.action === 'UPDATE' && r.actor_role === 'ADMIN')).toBe(true);
    const history = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select count(*)::int as n from model_stage_change where actor_id is not null`)) as {
      n: number;
    }[];
    expect(rows.length).toBe(history[0].n);
    // v1 changed once so far (replaced by v3's promotion); the refused attempts wrote nothing.
    expect(rows.filter((r) => r.entity_id === ids.v1)).toHaveLength(1);
  });

  it('rolls back: restores the replaced version, archives the current one, and refuses a second rollback', async () => {
    const r = await rollback();
    expect(r.errors).toBeUndefined();
    expect(r.data!.rollbackModelVersion).toMatchObject({ id: ids.v1, stage: 'PRODUCTION' });
    expect((await stages()).v3).toBe('ARCHIVED');
    expect(t.app.engine.activeVersion('chest')).toBe('v1');
    expect(await analyzeNew()).toMatchObject({ route: 'PRODUCTION', modelVersionId: ids.v1 });
    const again = await rollback();
    expect(codes(again.errors)).toEqual(['ILLEGAL_MODEL_TRANSITION']);
    await waitFor(() => loaded().join() === 'v1*');
  });

  it('filters predictions by model version', async () => {
    const list = async (id: string) =>
      (
        await t.gql<{ predictions: { edges: { node: { modelVersionId: string } }[] } }>(
          radiologist,
          'query($id: ID!) { predictions(first: 50, filter: {modelVersionId: $id}) { edges { node { modelVersionId } } } }',
          { id },
        )
      ).data!.predictions.edges.map((e) => e.node.modelVersionId);
    expect(await list(ids.v2)).toEqual([ids.v2]);
    expect(await list(ids.v3)).toEqual([ids.v3]);
    expect(await list(ids.v1)).toEqual([ids.v1]);
    expect(await list(ids.v4)).toEqual([]);
  });

  it('answers modelLineage with parents, training run, dataset, gate and promotion history', async () => {
    const r = await t.gql<{ modelLineage: Record<string, unknown> }>(
      radiologist,
      `query($id: ID!) { modelLineage(id: $id) {
        modelVersion { version stage parentId trainingRunId }
        parents { version }
        trainingRun { parameters codeVersion }
        codeVersion trainingDurationSeconds datasetManifestSha256 datasetCounts gateVerdict
        promotedBy { id role displayName } promotedAt
        stageChanges { kind fromStage toStage trafficShare actor { role } }
      } }`,
      { id: ids.v3 },
    );
    expect(r.errors).toBeUndefined();
    const l = r.data!.modelLineage as Record<string, unknown>;
    expect(l).toMatchObject({
      modelVersion: { version: 'v3', stage: 'ARCHIVED' },
      parents: [{ version: 'v2' }, { version: 'v1' }],
      trainingRun: { parameters: { epochs: 3, lr: 0.001, corrections: 12 }, codeVersion: 'abc1234' },
      codeVersion: 'abc1234',
      trainingDurationSeconds: 150,
      datasetManifestSha256: 'f'.repeat(64),
      datasetCounts: { train: { NORMAL: 10, PNEUMONIA: 12 }, test: { NORMAL: 5 } },
      promotedBy: { role: 'ADMIN' },
    });
    expect(l.promotedAt).toBeTruthy();
    expect((l.stageChanges as { kind: string }[]).map((c) => c.kind)).toEqual([
      'CANARY_STARTED',
      'PROMOTED',
      'ROLLED_BACK',
    ]);

    const v2 = await t.gql<{ modelLineage: { gateVerdict: unknown; stageChanges: { kind: string }[] } }>(
      admin,
      'query($id: ID!) { modelLineage(id: $id) { gateVerdict stageChanges { kind trafficShare } } }',
      { id: ids.v2 },
    );
    expect(v2.data!.modelLineage.gateVerdict).toEqual({ passed: true, recall: { PNEUMONIA: 0.97 } });
    const kinds = v2.data!.modelLineage.stageChanges.map((c) => c.kind);
    expect(kinds.length).toBeGreaterThanOrEqual(4);
    expect(kinds).toEqual([
      'CANARY_STARTED',
      ...kinds.slice(1, -1).map(() => 'CANARY_SHARE_CHANGED'),
      'ARCHIVED',
    ]);

    // The shipped version's lineage comes from its model.json.
    const v1 = await t.gql<{
      modelLineage: {
        codeVersion: string;
        trainingDurationSeconds: number;
        datasetCounts: object;
        stageChanges: { kind: string; actor: unknown }[];
      };
    }>(
      radiologist,
      'query($id: ID!) { modelLineage(id: $id) { codeVersion trainingDurationSeconds datasetCounts stageChanges { kind actor { id } } } }',
      { id: ids.v1 },
    );
    const lineage = v1.data!.modelLineage;
    expect(lineage.codeVersion).toEqual(expect.any(String));
    expect(lineage.trainingDurationSeconds).toBeGreaterThan(0);
    expect(lineage.datasetCounts).toBeTruthy();
    expect(lineage.stageChanges.map((c) => c.kind)).toEqual(['INITIAL_PRODUCTION', 'REPLACED', 'RESTORED']);
    expect(lineage.stageChanges[0].actor).toBeNull();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

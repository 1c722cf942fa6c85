/**
 * Rollout across two API server processes sharing one PostgreSQL (as in production): a promotion made
 * on process A reaches process B's engine through LISTEN/NOTIFY without a restart (B's periodic
 * re-read is switched off, so only the event can do it), and analyses running on B while A starts
 * canaries, promotes and rolls back all succeed.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenService } from '../../src/auth/token.service';
import { createOrm, migrateToLatest } from '../../src/db/orm';
import { ModelTask, Role } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { User } from '../../src/domain/user/user.entity';
import {
  addChestVersion,
  chestModelAvailable,
  chestRepository,
  registerStaging,
} from '../support/model-repository';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { fixtureFile } from '../support/shared-data';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';
import { subscribe, untilReceived, wsClient } from '../support/ws-client';

const SECRET = 'rollout-multi-process-secret-0123456789';

type GqlResult<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

describe('model rollout across server processes', () => {
  let db: TestDatabase;
  let modelsDir: string;
  const storageDir = join(tmpdir(), `cc-rollout-mp-${process.pid}`);
  const servers: ServerProcess[] = [];
  const tokens: Record<string, string> = {};
  const versionIds: Record<string, string> = {};
  let ready = false;
  let startupRegistry: { versions: number; changes: number; runs: number }[] = [];

  async function gql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult<T>;
  }

  async function ok<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
    const r = await gql<T>(url, token, query, variables);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  }

  /** The chest versions a server's engine has loaded, `*` marking the default (from /health/ready). */
  async function loadedOn(url: string): Promise<string> {
    const res = await fetch(`${url}/health/ready`);
    const body = (await res.json()) as { checks: { models: string } };
    return body.checks.models
      .split(', ')
      .filter((m) => m.startsWith('chest@'))
      .map((m) => m.split(' ')[0])
      .sort()
      .join(',');
  }

  async function waitForLoaded(url: string, expected: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await loadedOn(url);
      if (last === expected) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`engine at ${url} has ${last}, expected ${expected}`);
  }

  async function chestStudy(url: string): Promise<string> {
    const tech = tokens.TECHNICIAN;
    const patient = await ok<{ createPatient: { id: string } }>(
      url,
      tech,
      'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "Multi", familyName: "Rollout"}) { id } }',
      { m: `MR-${Math.random().toString(36).slice(2)}` },
    );
    const study = await ok<{ createStudy: { id: string } }>(
      url,
      tech,
      'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $a}) { id } }',
      { p: patient.createPatient.id, a: `MRA-${Math.random().toString(36).slice(2)}` },
    );
    const up = await fetch(`${url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${tech}` },
      body: fixtureFile('chest/kermany/test/NORMAL/IM-0005-0001.jpeg'),
    });
    const { uploadId } = (await up.json()) as { uploadId: string };
    await ok(
      url,
      tech,
      'mutation($s: ID!, $u: ID!) { attachImage(input: {studyId: $s, uploadId: $u, view: PA}) { id } }',
      {
        s: study.createStudy.id,
        u: uploadId,
      },
    );
    return study.createStudy.id;
  }

  const analyze = (url: string, studyId: string) =>
    gql<{ analyzeStudy: { route: string; modelVersionId: string } }>(
      url,
      tokens.RADIOLOGIST,
      // Serving, not idempotency: every call reads the study again with the version routing picks now.
      'mutation($s: ID!) { analyzeStudy(studyId: $s, reread: true) { route modelVersionId } }',
      { s: studyId },
    );

  const rollout = (field: string, args: string, vars: Record<string, unknown>) =>
    ok<Record<string, { version: string; stage: string }>>(
      servers[0].url,
      tokens.ADMIN,
      `mutation(${args}) { ${field} { version stage } }`,
      vars,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    ready =
      requireOrSkip(
        db.real,
        'a real PostgreSQL (DATABASE_URL) is needed for LISTEN/NOTIFY across processes',
      ) && requireOrSkip(chestModelAvailable(), 'trained chest model under models/chest/v1');
    if (!ready) return;
    modelsDir = chestRepository(['v1']);
    const orm = await createOrm({ url: db.url, poolMax: 2 });
    await migrateToLatest(orm);
    const em = orm.em.fork();
    const issuer = new TokenService(SECRET, 'care-companion', 3600);
    for (const role of [Role.ADMIN, Role.TECHNICIAN, Role.RADIOLOGIST]) {
      const user = em.create(User, {
        email: `${role.toLowerCase()}@rollout-mp`,
        displayName: role,
        role,
        active: true,
      } as User);
      await em.flush();
      tokens[role] = (await issuer.mint(user.id, role)).token;
    }
    const env = {
      DATABASE_URL: db.url,
      AUTH_SECRET: SECRET,
      STORAGE_FS_DIR: storageDir,
      MODELS_DIR: modelsDir,
      ANALYSIS_WORKERS: '0',
      DECODE_WORKERS: '0',
      MODEL_RECONCILE_INTERVAL_MS: '0',
    };
    // Both start at once on an empty registry: the per-task lock lets exactly one register v1.
    servers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
    startupRegistry = (await em
      .getConnection()
      .execute(
        `select (select count(*) from model_version)::int as versions, (select count(*) from model_stage_change)::int as changes, (select count(*) from training_run)::int as runs`,
      )) as typeof startupRegistry;
    const v1 = await em.findOneOrFail(ModelVersion, { task: ModelTask.CHEST, version: 'v1' });
    versionIds.v1 = v1.id;
    versionIds.v2 = (
      await registerStaging(em, { version: 'v2', dir: addChestVersion(modelsDir, 'v2'), parent: v1 })
    ).id;
    versionIds.v3 = (
      await registerStaging(em, { version: 'v3', dir: addChestVersion(modelsDir, 'v3'), parent: v1 })
    ).id;
    await orm.close(true);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db?.drop();
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('applies a promotion made on A to B without a restart, and pushes the event to B’s subscribers', async () => {
    if (!ready) return;
    const [a, b] = servers;
    // Both processes started together on an empty registry: v1 registered once, made PRODUCTION once.
    expect(startupRegistry).toEqual([{ versions: 1, changes: 1, runs: 1 }]);
    await waitForLoaded(a.url, 'chest@v1*');
    await waitForLoaded(b.url, 'chest@v1*');
    const studyOnB = await chestStudy(b.url);
    expect((await analyze(b.url, studyOnB)).data!.analyzeStudy.modelVersionId).toBe(versionIds.v1);

    const client = wsClient(b.url, tokens.ADMIN);
    const sub = await subscribe<{ modelVersionChanged: { kind: string; modelVersion: { version: string } } }>(
      client,
      'subscription { modelVersionChanged(task: CHEST) { kind modelVersion { version } } }',
    );
    let share = 0.05;
    await untilReceived(sub, async (attempt) => {
      if (attempt === 0)
        await rollout('startCanary(id: $id, trafficShare: $s)', '$id: ID!, $s: Float!', {
          id: versionIds.v2,
          s: share,
        });
      else {
        share += 0.01;
        await rollout('setCanaryShare(id: $id, trafficShare: $s)', '$id: ID!, $s: Float!', {
          id: versionIds.v2,
          s: share,
        });
      }
      return (e) => e.modelVersionChanged.modelVersion.version === 'v2';
    });
    // B loaded the canary beside production because of the event alone.
    await waitForLoaded(b.url, 'chest@v1*,chest@v2');

    const promoted = await rollout('promoteModelVersion(id: $id)', '$id: ID!', { id: versionIds.v2 });
    expect(promoted.promoteModelVersion).toEqual({ version: 'v2', stage: 'PRODUCTION' });
    const event = await sub.waitFor((e) => e.modelVersionChanged.kind === 'PROMOTED');
    expect(event.modelVersionChanged.modelVersion.version).toBe('v2');
    await waitForLoaded(b.url, 'chest@v2*');
    await waitForLoaded(a.url, 'chest@v2*');
    expect((await analyze(b.url, studyOnB)).data!.analyzeStudy).toEqual({
      route: 'PRODUCTION',
      modelVersionId: versionIds.v2,
    });
    sub.close();
    await client.dispose();
  }, 180_000);

  it('fails no analysis on B while A rolls back, runs a canary, promotes it and rolls back again', async () => {
    if (!ready) return;
    const [a, b] = servers;
    const studies = await Promise.all([0, 1, 2, 3].map(() => chestStudy(b.url)));
    const results: { ok: boolean; version?: string; route?: string; error?: string }[] = [];
    let running = true;
    const worker = async (i: number) => {
      for (let n = 0; running; n++) {
        const r = await analyze(b.url, studies[(i + n) % studies.length]).catch((e: Error) => ({
          errors: [{ message: e.message }],
          data: undefined,
        }));
        results.push(
          r.errors
            ? { ok: false, error: JSON.stringify(r.errors) }
            : { ok: true, version: r.data!.analyzeStudy.modelVersionId, route: r.data!.analyzeStudy.route },
        );
      }
    };
    const load = [0, 1, 2].map(worker);
    const waitForResults = async (n: number) => {
      const target = results.length + n;
      while (results.length < target) await new Promise((r) => setTimeout(r, 20));
    };
    const steps: [string, () => Promise<unknown>, string][] = [
      [
        'rollback to v1',
        () => rollout('rollbackModelVersion(task: $t)', '$t: ModelTask!', { t: 'CHEST' }),
        'chest@v1*',
      ],
      [
        'canary v3 at 0.5',
        () =>
          rollout('startCanary(id: $id, trafficShare: $s)', '$id: ID!, $s: Float!', {
            id: versionIds.v3,
            s: 0.5,
          }),
        'chest@v1*,chest@v3',
      ],
      [
        'promote v3',
        () => rollout('promoteModelVersion(id: $id)', '$id: ID!', { id: versionIds.v3 }),
        'chest@v3*',
      ],
      [
        'rollback to v1',
        () => rollout('rollbackModelVersion(task: $t)', '$t: ModelTask!', { t: 'CHEST' }),
        'chest@v1*',
      ],
    ];
    try {
      await waitForResults(6);
      for (const [, step, expected] of steps) {
        await step();
        await waitForLoaded(b.url, expected);
        await waitForResults(6);
      }
    } finally {
      running = false;
      await Promise.all(load);
    }
    const failures = results.filter((r) => !r.ok);
    expect(failures).toEqual([]);
    const seen = new Set(results.map((r) => r.version));
    expect(seen).toEqual(new Set([versionIds.v1, versionIds.v2, versionIds.v3]));
    expect(await loadedOn(a.url)).toBe('chest@v1*');
    console.log(
      `rollout under load on process B: ${results.length} analyses, ${failures.length} failed; per version ${JSON.stringify(
        Object.fromEntries(
          Object.entries(versionIds).map(([v, id]) => [v, results.filter((r) => r.version === id).length]),
        ),
      )}`,
    );
  }, 180_000);
});

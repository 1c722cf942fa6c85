/**
 * Drift monitoring through the API with the real chest model: a count window of held-out films with
 * the training source mix is checked and raises nothing; a window of NIH adult films raises drift
 * alerts that reach a `driftDetected` subscriber at once and are listed, acknowledged and resolved.
 */
import { existsSync, readdirSync } from 'node:fs';
import { DriftService } from '../../src/domain/drift/drift.service';
import { Role } from '../../src/domain/enums';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { inDistributionFilms, nihFilms } from '../support/drift-films';
import { shippedVersion } from '../support/model-repository';
import { sharedDataAvailable } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';
import { subscribe, untilReceived, wsClient } from '../support/ws-client';

const WINDOW = 20;

interface Alert {
  id: string;
  signal: string;
  statistic: string;
  value: number;
  pValue: number | null;
  threshold: number;
  windowSize: number;
  windowKind: string;
  status: string;
  modelVersionId: string;
}
const ALERT = 'id signal statistic value pValue threshold windowSize windowKind status modelVersionId';

interface Check {
  windowKind: string;
  windowSize: number;
  drifted: boolean;
  signals: { signal: string; statistic: string; value: number; pValue: number | null; drifted: boolean }[];
}

const ready =
  sharedDataAvailable() &&
  requireOrSkip(
    readdirSync('models/chest').some((v) => existsSync(`models/chest/${v}/reference-profile.json`)),
    'a chest reference profile',
  );

(ready ? describe : describe.skip)('drift monitoring through the API', () => {
  let t: TestApp;
  let tech: string;
  let admin: string;
  let radiologist: string;
  let patientId: string;
  /** The chest version a fresh install serves: its films are the in-distribution window. */
  let chestVersion: string;

  beforeAll(async () => {
    chestVersion = await shippedVersion('chest');
    t = await startTestApp({
      DRIFT_WINDOW_SIZE: String(WINDOW),
      DRIFT_TIME_WINDOW_MINUTES: '0',
      ANALYSIS_WORKERS: '0',
      DECODE_WORKERS: '1',
    });
    tech = await t.tokenFor(Role.TECHNICIAN);
    admin = await t.tokenFor(Role.ADMIN);
    radiologist = await t.tokenFor(Role.RADIOLOGIST);
    patientId = await createPatient(t, tech);
  });
  afterAll(async () => t?.stop());

  async function analyse(films: string[]): Promise<string[]> {
    const verdicts: string[] = [];
    for (const film of films) {
      const studyId = await createStudy(t, tech, patientId, 'CHEST');
      await attach(t, tech, studyId, `chest/${film.replace(/^chest\//, '')}`, 'PA');
      const r = await t.gql<{ analyzeStudy: { gateVerdict: string } }>(
        tech,
        'mutation($s: ID!) { analyzeStudy(studyId: $s) { gateVerdict } }',
        { s: studyId },
      );
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      verdicts.push(r.data!.analyzeStudy.gateVerdict);
    }
    return verdicts;
  }

  async function checks(): Promise<Check[]> {
    const r = await t.gql<{ driftChecks: Check[] }>(
      admin,
      '{ driftChecks { windowKind windowSize drifted signals { signal statistic value pValue drifted } } }',
    );
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.driftChecks;
  }

  /** Polls until `n` checks exist (evaluation runs right after the window's last prediction commits). */
  async function untilChecks(n: number): Promise<Check[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = await checks();
      if (found.length >= n || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('checks an in-distribution window without alarm, then alerts live on a window of NIH films', async () => {
    const client = wsClient(t.app.url, tech);
    const alerts = await subscribe<{ driftDetected: Alert }>(
      client,
      `subscription { driftDetected { ${ALERT} } }`,
    );
    // The same connection's later subscription is live once an event arrives, so the first one is too.
    const studies = await subscribe<{ studyEvents: { change: string } }>(
      client,
      'subscription { studyEvents { change } }',
    );
    await untilReceived(studies, async () => {
      await createStudy(t, tech, patientId, 'CHEST');
      return (e) => e.studyEvents.change === 'CREATED';
    });

    const inDist = await analyse(inDistributionFilms(WINDOW, 11, chestVersion));
    expect(inDist.filter((v) => v === 'ACCEPTED')).toHaveLength(WINDOW);
    const [first] = await untilChecks(1);
    expect(first).toMatchObject({ windowKind: 'COUNT', windowSize: WINDOW, drifted: false });
    expect(first!.signals.map((s) => s.signal).sort()).toEqual(
      [
        'bit_depth',
        'confidence',
        'embedding',
        'format',
        'image_size',
        'intensity_histogram',
        'intensity_mean',
        'predicted_class',
      ].sort(),
    );
    expect(alerts.events).toEqual([]);

    const nih = await analyse(nihFilms(WINDOW + 5, 3, chestVersion));
    expect(nih.filter((v) => v === 'ACCEPTED').length).toBeGreaterThanOrEqual(WINDOW);
    const live = await alerts.waitFor(() => true, 30_000);
    expect(live.driftDetected).toMatchObject({ windowKind: 'COUNT', windowSize: WINDOW, status: 'OPEN' });
    const [, second] = await untilChecks(2);
    expect(second!.drifted).toBe(true);
    const driftedSignals = second!.signals.filter((s) => s.drifted).map((s) => s.signal);
    expect(driftedSignals).toContain(live.driftDetected.signal);
    client.dispose();

    const listed = await t.gql<{ driftAlerts: { edges: { node: Alert }[] } }>(
      tech,
      `{ driftAlerts(status: OPEN) { edges { node { ${ALERT} } } } }`,
    );
    expect(listed.data!.driftAlerts.edges.map((e) => e.node.signal).sort()).toEqual(
      [...driftedSignals].sort(),
    );

    const id = live.driftDetected.id;
    const ack = `mutation($id: ID!) { acknowledgeDriftAlert(id: $id) { status } }`;
    const refused = await t.gql(radiologist, ack, { id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql<{ acknowledgeDriftAlert: { status: string } }>(tech, ack, { id })).data).toEqual({
      acknowledgeDriftAlert: { status: 'ACKNOWLEDGED' },
    });
    const again = await t.gql(tech, ack, { id });
    expect(again.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    const resolved = await t.gql<{ resolveDriftAlert: { status: string } }>(
      admin,
      `mutation($id: ID!) { resolveDriftAlert(id: $id) { status } }`,
      { id },
    );
    expect(resolved.data).toEqual({ resolveDriftAlert: { status: 'RESOLVED' } });

    const metrics = await t.app.metrics.render();
    expect(metrics).toMatch(/care_companion_drift_alerts_total\{[^}]*signal="[a-z_]+"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/care_companion_drift_p_value\{[^}]*signal="embedding"/);
  });

  it('gives technicians and admins an overview without patient data', async () => {
    const r = await t.gql<{
      monitoringOverview: {
        modelVersions: { task: string; version: string; stage: string; hasReferenceProfile: boolean }[];
        throughput: { predictions: number; p50Ms: number | null }[];
        recentPredictions: { gateVerdict: string; model: string | null; totalMs: number | null }[];
        drift: { windowSize: number; alpha: number };
        corrections: number;
      };
    }>(
      tech,
      `{ monitoringOverview(minutes: 60, recent: 10) { modelVersions { task version stage hasReferenceProfile }
         throughput { predictions p50Ms } recentPredictions { gateVerdict model totalMs }
         drift { windowSize alpha } corrections } }`,
    );
    expect(r.errors).toBeUndefined();
    const o = r.data!.monitoringOverview;
    expect(o.modelVersions).toContainEqual({
      task: 'CHEST',
      version: chestVersion,
      stage: 'PRODUCTION',
      hasReferenceProfile: true,
    });
    expect(o.throughput.reduce((s, b) => s + b.predictions, 0)).toBe(WINDOW + WINDOW + 5);
    expect(o.throughput.every((b) => b.p50Ms !== null && b.p50Ms > 0)).toBe(true);
    expect(o.recentPredictions).toHaveLength(10);
    expect(o.recentPredictions[0]).toMatchObject({ model: `chest/${chestVersion}` });
    expect(o.drift).toEqual({ windowSize: WINDOW, alpha: 0.01 });
    expect(o.corrections).toBe(0);
  });

  it('deletes drift samples past their retention and keeps checks and alerts', async () => {
    const count = async (table: string) =>
      (
        (await t.app.orm.em.fork().getConnection().execute(`select count(*)::int as n from ${table}`)) as {
          n: number;
        }[]
      )[0]!.n;
    const samples = await count('drift_sample');
    const checks = await count('drift_check');
    expect(samples).toBeGreaterThanOrEqual(2 * WINDOW);
    const options = { ...t.app.config.drift, sampleRetentionDays: 1, modelsDir: t.app.config.modelsDir };
    const today = new DriftService(t.app.orm.em, { publish: () => undefined }, options, t.app.logger);
    expect(await today.pruneSamples()).toBe(0);
    const later = new DriftService(
      t.app.orm.em,
      { publish: () => undefined },
      options,
      t.app.logger,
      undefined,
      () => new Date(Date.now() + 2 * 86400_000),
    );
    expect(await later.pruneSamples()).toBe(samples);
    expect(await count('drift_sample')).toBe(0);
    expect(await count('drift_check')).toBe(checks);
  });
});

(ready ? describe : describe.skip)('time windows', () => {
  let t: TestApp;
  let tech: string;

  beforeAll(async () => {
    t = await startTestApp({
      DRIFT_WINDOW_SIZE: '5000',
      DRIFT_TIME_WINDOW_MINUTES: '0.1',
      DRIFT_MIN_WINDOW_SIZE: '10',
      ANALYSIS_WORKERS: '0',
      DECODE_WORKERS: '1',
    });
    tech = await t.tokenFor(Role.TECHNICIAN);
  });
  afterAll(async () => t?.stop());

  it('tests the predictions of each period once there are enough, and alerts on NIH films', async () => {
    const patientId = await createPatient(t, tech);
    for (const film of nihFilms(12, 9)) {
      const studyId = await createStudy(t, tech, patientId, 'CHEST');
      await attach(t, tech, studyId, `chest/${film.replace(/^chest\//, '')}`, 'PA');
      const r = await t.gql(tech, 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }', { s: studyId });
      expect(r.errors).toBeUndefined();
    }
    const deadline = Date.now() + 30_000;
    let found: { windowKind: string; windowSize: number; drifted: boolean }[] = [];
    while (!found.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const r = await t.gql<{ driftChecks: typeof found }>(
        tech,
        '{ driftChecks(windowKind: TIME) { windowKind windowSize drifted } }',
      );
      found = r.data!.driftChecks;
    }
    expect(found[0]).toMatchObject({ windowKind: 'TIME', drifted: true });
    expect(found[0]!.windowSize).toBeGreaterThanOrEqual(10);
    const alerts = await t.gql<{ driftAlerts: { edges: { node: { windowKind: string } }[] } }>(
      tech,
      '{ driftAlerts { edges { node { windowKind } } } }',
    );
    expect(alerts.data!.driftAlerts.edges.map((e) => e.node.windowKind)).toContain('TIME');
    const counts = await t.gql<{ driftChecks: unknown[] }>(tech, '{ driftChecks(windowKind: COUNT) { id } }');
    expect(counts.data!.driftChecks).toEqual([]);
  });
});

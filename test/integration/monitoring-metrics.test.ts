/**
 * GET /metrics over a real app: analyses through GraphQL and the job queue move the core counters and
 * histograms by exactly what happened, with bounded labels, and the scrape token is enforced.
 */
import { existsSync, readdirSync } from 'node:fs';
import { Role } from '../../src/domain/enums';
import { readsPerView } from '../../src/inference/model-manifest';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { Exposition, matching, parseExposition, sampleValue } from '../support/prometheus-text';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';
import { wsClient } from '../support/ws-client';

const TOKEN = 'scrape-token-for-tests-0123456789';
const P = 'care_companion_';

/** Polls `probe` until it returns a value, at most `ms`. */
async function waitFor<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GET /metrics', () => {
  const ready =
    sharedDataAvailable() &&
    requireOrSkip(
      existsSync('models/chest/v1/model.onnx') && existsSync('models/wrist/v1/model.onnx'),
      'trained models under models/',
    );
  let t: TestApp;
  let tech: string;
  let radiologist: string;

  const scrape = async (): Promise<Exposition> => {
    const res = await fetch(`${t.app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  beforeAll(async () => {
    if (!ready) return;
    t = await startTestApp({ ANALYSIS_WORKERS: '1', METRICS_TOKEN: TOKEN });
    tech = await t.tokenFor(Role.TECHNICIAN);
    radiologist = await t.tokenFor(Role.RADIOLOGIST);
  });
  afterAll(async () => t?.stop());

  it('refuses a scrape without the configured token, and with a wrong one', async () => {
    if (!ready) return;
    const none = await fetch(`${t.app.url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    const wrong = await fetch(`${t.app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    // A user's API token is not a scrape token either.
    const user = await fetch(`${t.app.url}/metrics`, { headers: { authorization: `Bearer ${tech}` } });
    expect(user.status).toBe(401);
  });

  it('counts open WebSocket connections', async () => {
    if (!ready) return;
    const open = async (n: number) =>
      waitFor(
        async () => (sampleValue(await scrape(), `${P}websocket_connections`) === n ? true : undefined),
        10_000,
        `${n} open WebSocket connection(s)`,
      );
    await open(0);
    const clients = [wsClient(t.app.url, tech), wsClient(t.app.url, radiologist)];
    await open(2);
    await clients[0].dispose();
    await open(1);
    await clients[1].dispose();
    await open(0);
  });

  it('counts analyses, inferences, batches, requests and jobs by exactly what happened', async () => {
    if (!ready) return;
    const patientId = await createPatient(t, tech);
    const chestFilms = [
      'chest/kermany/test/PNEUMONIA/person100_bacteria_475.jpeg',
      'chest/kermany/test/NORMAL/IM-0001-0001.jpeg',
    ];
    const chestStudies: string[] = [];
    for (const film of chestFilms) {
      const id = await createStudy(t, tech, patientId, 'CHEST');
      await attach(t, tech, id, film, 'PA');
      chestStudies.push(id);
    }
    const photoStudy = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, photoStudy, 'ood/coral/cat_720p.jpg', 'PA');
    const emptyStudy = await createStudy(t, tech, patientId, 'CHEST');
    const wristStudy = await createStudy(t, tech, patientId, 'WRIST');
    const bone = (split: string) =>
      `bone/${split}/images/${readdirSync(`${SHARED_DIR}/datasets/bone/${split}/images`).sort()[0]}`;
    await attach(t, tech, wristStudy, bone('train'), 'PA');
    await attach(t, tech, wristStudy, bone('valid'), 'LATERAL');

    const before = await scrape();
    const analyze = (studyId: string) =>
      t.gql<{ analyzeStudy: { label: string | null; gateVerdict: string; route: string } }>(
        radiologist,
        'mutation($s: ID!) { analyzeStudy(studyId: $s) { label gateVerdict route } }',
        { s: studyId },
      );
    const readings = [];
    for (const id of [...chestStudies, photoStudy]) {
      const r = await analyze(id);
      expect(r.errors).toBeUndefined();
      readings.push(r.data!.analyzeStudy);
    }
    expect((await analyze(emptyStudy)).errors?.[0].extensions?.code).toBe('INVALID_STATE');
    expect((await t.gql(radiologist, '{ noSuchField }')).status).toBe(400);
    const submitted = await t.gql<{ submitStudies: { id: string } }>(
      tech,
      'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
      { ids: [wristStudy] },
    );
    expect(submitted.errors).toBeUndefined();
    const jobId = submitted.data!.submitStudies.id;
    await waitFor(
      async () => {
        const r = await t.gql<{ analysisJob: { status: string } }>(
          tech,
          'query($id: ID!) { analysisJob(id: $id) { status } }',
          { id: jobId },
        );
        return r.data?.analysisJob.status === 'COMPLETED' ? true : undefined;
      },
      60_000,
      'the wrist job',
    );
    const wrist = await t.gql<{
      predictions: { edges: { node: { label: string | null; gateVerdict: string } }[] };
    }>(
      radiologist,
      'query($s: ID) { predictions(filter: {studyId: $s}) { edges { node { label gateVerdict } } } }',
      { s: wristStudy },
    );
    const wristReading = wrist.data!.predictions.edges[0].node;
    // The job counter committed before the scrape is read; wait until the completed job is visible.
    const after = await waitFor(
      async () => {
        const e = await scrape();
        return sampleValue(e, `${P}job_queue_jobs`, { queue: 'analyze-study', state: 'completed' }) >= 1
          ? e
          : undefined;
      },
      10_000,
      'the completed job in the queue gauge',
    );
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    // The versions a fresh install serves, and how the wrist one reads: a per-view model (v2) runs once per view
    // and shows every view to the chest model's gate; a pair model (v1) runs once per study and shows its PA view.
    const chest = { task: 'chest', model_version: t.app.engine.activeVersion('chest')! };
    const wristModel = { task: 'wrist', model_version: t.app.engine.activeVersion('wrist')! };
    const wristManifest = t.app.engine.manifest('wrist');
    const wristInferences = readsPerView(wristManifest) ? 2 : 1;
    const chestCrossCheck = readsPerView(wristManifest)
      ? 2
      : wristManifest.gate.notTargetLogitThreshold === undefined
        ? 1
        : 0;

    // Predictions by label and gate verdict: each committed reading once, with its own labels.
    const expected = new Map<string, number>();
    for (const r of readings) {
      const key = JSON.stringify({
        ...chest,
        route: 'PRODUCTION',
        label: r.label ?? 'none',
        gate_verdict: r.gateVerdict,
      });
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expected.set(
      JSON.stringify({
        ...wristModel,
        route: 'PRODUCTION',
        label: wristReading.label ?? 'none',
        gate_verdict: wristReading.gateVerdict,
      }),
      1,
    );
    for (const [key, n] of expected)
      expect([key, delta(`${P}predictions_total`, JSON.parse(key))]).toEqual([key, n]);
    expect(delta(`${P}predictions_total`)).toBe(4);
    expect(readings.map((r) => r.gateVerdict).slice(0, 2)).toEqual(['ACCEPTED', 'ACCEPTED']);
    expect(readings[2].gateVerdict).not.toBe('ACCEPTED');
    expect(delta(`${P}analysis_duration_seconds_count`, { ...chest, route: 'PRODUCTION' })).toBe(3);
    expect(delta(`${P}analysis_duration_seconds_count`, { ...wristModel, route: 'PRODUCTION' })).toBe(1);
    expect(delta(`${P}analysis_duration_seconds_sum`, { ...chest })).toBeGreaterThan(0);

    // Inference: three chest studies (plus the wrist study's PA view shown to the chest gate for a pair model).
    const chestInferences = 3 + chestCrossCheck;
    expect(delta(`${P}inference_requests_total`, { ...chest, outcome: 'ok' })).toBe(chestInferences);
    expect(delta(`${P}inference_requests_total`, { ...wristModel, outcome: 'ok' })).toBe(wristInferences);
    expect(delta(`${P}inference_duration_seconds_count`, chest)).toBe(chestInferences);
    expect(delta(`${P}inference_queue_wait_seconds_count`, wristModel)).toBe(wristInferences);
    // Every item ran in exactly one batch: the batch sizes add up to the items.
    expect(delta(`${P}inference_batch_size_sum`, chest)).toBe(chestInferences);
    const chestBatches = delta(`${P}inference_batch_size_count`, chest);
    expect(chestBatches).toBeGreaterThanOrEqual(1);
    expect(chestBatches).toBeLessThanOrEqual(chestInferences);
    expect(delta(`${P}inference_batch_duration_seconds_count`, { ...chest, outcome: 'ok' })).toBe(
      chestBatches,
    );
    // A histogram's +Inf bucket equals its count.
    expect(sampleValue(after, `${P}inference_batch_size_bucket`, { ...chest, le: '+Inf' })).toBe(
      sampleValue(after, `${P}inference_batch_size_count`, chest),
    );

    // GraphQL by operation (top-level field, never the client's operation name) and outcome; HTTP by route.
    expect(
      delta(`${P}graphql_operation_duration_seconds_count`, {
        operation_type: 'mutation',
        operation: 'analyzeStudy',
        outcome: 'ok',
      }),
    ).toBe(3);
    expect(
      delta(`${P}graphql_operation_duration_seconds_count`, {
        operation_type: 'mutation',
        operation: 'analyzeStudy',
        outcome: 'error',
      }),
    ).toBe(1);
    expect(
      delta(`${P}graphql_operation_duration_seconds_count`, {
        operation_type: 'unknown',
        operation: 'invalid',
        outcome: 'error',
      }),
    ).toBe(1);
    expect(
      delta(`${P}graphql_operation_duration_seconds_count`, {
        operation_type: 'mutation',
        operation: 'submitStudies',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(
      delta(`${P}http_request_duration_seconds_count`, { method: 'POST', route: '/graphql', status: '200' }),
    ).toBeGreaterThanOrEqual(5);
    expect(
      delta(`${P}http_request_duration_seconds_count`, { method: 'POST', route: '/graphql', status: '400' }),
    ).toBe(1);

    // State gauges: loaded models with their provider, empty lanes, the finished job.
    for (const labels of [chest, wristModel]) {
      expect(matching(after, `${P}model_loaded`, labels)).toEqual([
        {
          name: `${P}model_loaded`,
          labels: { ...labels, execution_provider: 'cpu', precision: 'fp32', active: 'true' },
          value: 1,
        },
      ]);
      expect(
        matching(after, `${P}inference_queue_depth`, labels)
          .map((s) => [s.labels.priority, s.value])
          .sort(),
      ).toEqual([
        ['ROUTINE', 0],
        ['STAT', 0],
        ['URGENT', 0],
      ]);
      expect(sampleValue(after, `${P}inference_in_flight`, labels)).toBe(0);
    }
    expect(delta(`${P}job_queue_jobs`, { queue: 'analyze-study', state: 'completed' })).toBe(1);
    expect(sampleValue(after, `${P}job_queue_jobs`, { queue: 'analyze-study', state: 'created' })).toBe(0);
    expect(delta(`${P}analysis_jobs`, { status: 'COMPLETED' })).toBe(1);
    expect(sampleValue(after, `${P}analysis_jobs`, { status: 'QUEUED' })).toBe(0);
    expect(sampleValue(after, `${P}process_cpu_user_seconds_total`)).toBeGreaterThan(0);
    // CPU by thread role (Linux): the decode workers and the model sessions name their threads, so the
    // films decoded and the models loaded and run in this app show under their own roles (counted in
    // 10 ms clock ticks, so since start rather than over the few analyses above).
    if (process.platform === 'linux')
      for (const role of ['event-loop', 'decode', 'engine', 'runtime'])
        expect(sampleValue(after, `${P}thread_cpu_seconds_total`, { role })).toBeGreaterThan(0);

    // No ids reach label values (bounded cardinality, no PHI).
    const ids = [patientId, ...chestStudies, photoStudy, emptyStudy, wristStudy, jobId];
    for (const s of after.samples) for (const v of Object.values(s.labels)) expect(ids).not.toContain(v);
    const text = await (
      await fetch(`${t.app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    for (const id of ids) expect(text).not.toContain(id);
  });
});

import { existsSync } from 'node:fs';
import { Role } from '../../src/domain/enums';
import { DynamicBatchingEngine } from '../../src/inference/dynamic-batching.engine';
import type { InferenceEngine, InferRequest } from '../../src/inference/inference-engine';
import { OnnxSessionFactory } from '../../src/inference/onnx/onnx-session.factory';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

/** The real engine, with a hook that sees each request before it is queued. */
function observedEngine(onInfer: (r: InferRequest) => Promise<void>): InferenceEngine {
  const engine = new DynamicBatchingEngine({ sessionFactory: new OnnxSessionFactory() });
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'infer') return async (r: InferRequest) => (await onInfer(r), target.infer(r));
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('a client that disconnects cancels its analysis', () => {
  const ready = requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained chest model under models/');
  let t: TestApp;
  const seen: InferRequest[] = [];
  let hold: () => void = () => undefined;
  let reached: () => void = () => undefined;

  beforeAll(async () => {
    if (!ready) return;
    t = await startTestApp(
      { ANALYSIS_WORKERS: '0' },
      {
        engine: observedEngine(async (r) => {
          seen.push(r);
          reached();
          if (r.task === 'chest' && seen.length === 1) await new Promise<void>((resolve) => (hold = resolve));
        }),
      },
    );
  });
  afterAll(async () => t?.stop());

  it('passes an aborted signal to the engine, which then refuses the queued request with CANCELLED', async () => {
    if (!ready) return;
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const patientId = await createPatient(t, tech);
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    const controller = new AbortController();
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const request = fetch(`${t.app.url}/graphql`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tech}` },
      body: JSON.stringify({
        query: 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }',
        variables: { s: studyId },
      }),
    }).catch((error: Error) => error);
    await arrived;
    controller.abort();
    expect(await request).toMatchObject({ name: 'AbortError' });
    await new Promise<void>((resolve) => {
      const check = () => (seen[0].signal?.aborted ? resolve() : setImmediate(check));
      check();
    });
    hold();
    expect(seen[0].signal?.aborted).toBe(true);
    await expect(t.app.engine.infer(seen[0])).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

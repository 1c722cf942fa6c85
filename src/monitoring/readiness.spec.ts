import type { ModelHealth } from '../inference/inference-engine';
import { checkReadiness, ReadinessDeps } from './readiness';

const model = (task: string, active = true, draining = false): ModelHealth => ({
  task,
  version: 'v1',
  active,
  provider: 'cpu',
  precision: 'fp32',
  instances: 1,
  queueDepth: 0,
  queueDepthByPriority: { STAT: 0, URGENT: 0, ROUTINE: 0 },
  inFlight: 0,
  draining,
});

const deps = (over: Partial<ReadinessDeps> = {}): ReadinessDeps => ({
  database: async () => undefined,
  objectStore: async () => undefined,
  models: () => [model('chest'), model('wrist')],
  requiredTasks: ['chest', 'wrist'],
  timeoutMs: 50,
  ...over,
});

describe('checkReadiness', () => {
  it('is ready when the database and store answer and every required task has an active version', async () => {
    expect(await checkReadiness(deps())).toEqual({
      ok: true,
      checks: {
        database: 'ok',
        objectStore: 'ok',
        models: 'chest@v1* on cpu, wrist@v1* on cpu',
        activeModels: 'ok',
      },
    });
  });

  it('names the versions that run their int8 graph (ENGINE_PRECISION=int8)', async () => {
    const ready = await checkReadiness(
      deps({ models: () => [{ ...model('chest'), precision: 'int8' }, model('wrist')] }),
    );
    expect(ready.checks.models).toBe('chest@v1* on cpu (int8), wrist@v1* on cpu');
  });

  it('is not ready when a dependency fails or hangs past the timeout', async () => {
    const failing = await checkReadiness(deps({ database: () => Promise.reject(new Error('refused')) }));
    expect(failing.ok).toBe(false);
    expect(failing.checks.database).toBe('unavailable');
    const hanging = await checkReadiness(deps({ objectStore: () => new Promise(() => undefined) }));
    expect(hanging.ok).toBe(false);
    expect(hanging.checks).toMatchObject({ database: 'ok', objectStore: 'unavailable' });
  });

  it('is not ready when a required task has no active version (none, inactive only, or draining)', async () => {
    for (const models of [
      [model('chest')],
      [model('chest'), model('wrist', false)],
      [model('chest'), model('wrist', true, true)],
    ]) {
      const r = await checkReadiness(deps({ models: () => models }));
      expect(r.ok).toBe(false);
      expect(r.checks.activeModels).toBe('missing: wrist');
    }
    const none = await checkReadiness(deps({ models: () => [] }));
    expect(none.checks).toMatchObject({ models: 'none loaded', activeModels: 'missing: chest, wrist' });
    expect((await checkReadiness(deps({ models: () => [], requiredTasks: [] }))).ok).toBe(true);
  });
});

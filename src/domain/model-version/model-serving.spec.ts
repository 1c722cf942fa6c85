import { createPubSub } from '@graphql-yoga/subscription';
import type { InferenceEngine, ModelHealth } from '../../inference/inference-engine';
import type { ModelManifest } from '../../inference/model-manifest';
import { createLogger } from '../../logging/logger';
import { Topic } from '../shared/events';
import { ModelStage } from '../enums';
import { ModelServing, ServingVersion } from './model-serving';

/** An engine that records loads and unloads; unloads drain until the test lets them finish. */
class FakeEngine implements InferenceEngine {
  readonly loaded = new Map<string, { draining: boolean }>();
  readonly active = new Map<string, string>();
  readonly log: string[] = [];
  readonly drains = new Map<string, () => void>();
  failLoad = new Set<string>();
  holdDrains = false;

  async loadVersion(task: string, version: string): Promise<void> {
    const key = `${task}/${version}`;
    if (this.failLoad.has(key)) throw new Error('corrupt weights');
    if (this.loaded.has(key)) throw new Error(`already loaded: ${key}`);
    this.loaded.set(key, { draining: false });
    this.log.push(`load ${key}`);
  }
  activate(task: string, version: string): void {
    this.active.set(task, version);
    this.log.push(`activate ${task}/${version}`);
  }
  unloadVersion(task: string, version: string): Promise<void> {
    const key = `${task}/${version}`;
    this.loaded.get(key)!.draining = true;
    if (this.active.get(task) === version) this.active.delete(task);
    this.log.push(`unload ${key}`);
    return new Promise((resolve) => {
      const finish = () => {
        this.loaded.delete(key);
        resolve();
      };
      if (this.holdDrains) this.drains.set(key, finish);
      else finish();
    });
  }
  activeVersion(task: string): string | null {
    return this.active.get(task) ?? null;
  }
  health(): ModelHealth[] {
    return [...this.loaded].map(([key, s]) => {
      const [task, version] = key.split('/');
      return {
        task,
        version,
        active: this.active.get(task) === version,
        provider: 'cpu',
        precision: 'fp32',
        instances: 1,
        queueDepth: 0,
        queueDepthByPriority: { STAT: 0, URGENT: 0, ROUTINE: 0 },
        inFlight: 0,
        draining: s.draining,
      };
    });
  }
  keys(): string[] {
    return [...this.loaded]
      .filter(([, s]) => !s.draining)
      .map(([k]) => `${k}${this.active.get(k.split('/')[0]) === k.split('/')[1] ? '*' : ''}`)
      .sort();
  }
  infer(): never {
    throw new Error('not used');
  }
  manifest(): ModelManifest {
    throw new Error('not used');
  }
  precision(): 'fp32' {
    return 'fp32';
  }
  async close(): Promise<void> {}
}

const row = (version: string, stage: ModelStage): ServingVersion => ({
  task: 'CHEST',
  version,
  stage,
  artifactPath: `/models/chest/${version}`,
});
const idle = () => new Promise((r) => setImmediate(r));

describe('ModelServing', () => {
  let engine: FakeEngine;
  let registry: ServingVersion[];
  let serving: ModelServing;

  beforeEach(async () => {
    engine = new FakeEngine();
    registry = [row('v1', ModelStage.PRODUCTION)];
    serving = new ModelServing({ servingVersions: async () => registry }, engine, createLogger('silent'));
    await serving.reconcile();
  });
  afterEach(() => serving.stop());

  it('loads PRODUCTION as the default and CANARY beside it, and retires what no longer serves', async () => {
    expect(engine.keys()).toEqual(['chest/v1*']);
    registry = [row('v1', ModelStage.PRODUCTION), row('v2', ModelStage.CANARY)];
    await serving.reconcile();
    expect(engine.keys()).toEqual(['chest/v1*', 'chest/v2']);
    registry = [row('v2', ModelStage.PRODUCTION)];
    await serving.reconcile();
    expect(engine.keys()).toEqual(['chest/v2*']);
    // The new default is active before the old one starts draining: no gap without a default.
    expect(engine.log.indexOf('activate chest/v2')).toBeLessThan(engine.log.indexOf('unload chest/v1'));
  });

  it('keeps a retired version loaded while a request holds it, and unloads it on release', async () => {
    const lease = await serving.acquire({ task: 'CHEST', version: 'v1', artifactPath: '/models/chest/v1' });
    registry = [row('v2', ModelStage.PRODUCTION)];
    await serving.reconcile();
    expect(engine.keys()).toEqual(['chest/v1', 'chest/v2*']);
    lease.release();
    lease.release(); // idempotent
    await serving.reconcile();
    expect(engine.keys()).toEqual(['chest/v2*']);
  });

  it('loads a version routing chose before this process heard of it, then catches up with the registry', async () => {
    registry = [row('v1', ModelStage.PRODUCTION), row('v2', ModelStage.CANARY)];
    const lease = await serving.acquire({ task: 'CHEST', version: 'v2', artifactPath: '/models/chest/v2' });
    expect(engine.keys()).toEqual(['chest/v1*', 'chest/v2']);
    lease.release();
    await serving.reconcile();
    // v2 serves (CANARY), so releasing it does not unload it.
    expect(engine.keys()).toEqual(['chest/v1*', 'chest/v2']);
  });

  it('waits for a draining version to finish before loading it again (archive then quick rollback)', async () => {
    engine.holdDrains = true;
    registry = [row('v2', ModelStage.PRODUCTION)];
    await serving.reconcile();
    expect(engine.health().find((h) => h.version === 'v1')?.draining).toBe(true);
    expect(serving.tryAcquire('chest', 'v1')).toBeNull();
    registry = [row('v1', ModelStage.PRODUCTION)];
    const back = serving.acquire({ task: 'CHEST', version: 'v1', artifactPath: '/models/chest/v1' });
    await idle();
    expect(engine.log.filter((l) => l === 'load chest/v1')).toHaveLength(1);
    engine.drains.get('chest/v1')!();
    const lease = await back;
    expect(engine.log.filter((l) => l === 'load chest/v1')).toHaveLength(2);
    expect(serving.tryAcquire('chest', 'v1')).not.toBeNull();
    lease.release();
  });

  it('reports a version that fails to load and still loads the others; acquire surfaces the error', async () => {
    engine.failLoad.add('chest/v3');
    registry = [row('v1', ModelStage.PRODUCTION), row('v3', ModelStage.CANARY)];
    await serving.reconcile();
    expect(engine.keys()).toEqual(['chest/v1*']);
    await expect(
      serving.acquire({ task: 'CHEST', version: 'v3', artifactPath: '/models/chest/v3' }),
    ).rejects.toThrow('corrupt weights');
  });

  it('reconciles when a MODEL_VERSION_CHANGED event arrives', async () => {
    const pubSub = createPubSub();
    serving.start(pubSub, 0);
    registry = [row('v1', ModelStage.PRODUCTION), row('v2', ModelStage.CANARY)];
    await idle();
    pubSub.publish(Topic.MODEL_VERSION_CHANGED, { task: 'CHEST', version: 'v2', stage: 'CANARY' });
    for (let i = 0; i < 20 && engine.keys().length < 2; i++) await idle();
    expect(engine.keys()).toEqual(['chest/v1*', 'chest/v2']);
  });
});

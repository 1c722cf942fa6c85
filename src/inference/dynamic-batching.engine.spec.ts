import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors';
import { DynamicBatchingEngine } from './dynamic-batching.engine';
import type { ModelSession, SessionFactory, SessionOptions, TensorMap } from './model-session';
import type { InferenceBatchEvent, InferenceRequestEvent, InferResult } from './inference-engine';
import { fixtureManifestJson, fixturePreprocessing } from '../../test/support/manifest-fixture';

const SIZE = 4;

/** Smallest model.json the manifest schema accepts. */
function manifestJson(task: 'chest' | 'wrist', version: string, inputNames: string[]): object {
  return fixtureManifestJson({
    name: `${task}-fake`,
    task,
    version,
    classes: ['normal', 'abnormal'],
    input: { names: inputNames, size: SIZE, channels: 1, layout: 'NCHW' },
    preprocessing: fixturePreprocessing('v1'),
    outputs: [
      { name: 'logits', shape: ['N', 2] },
      { name: 'embedding', shape: ['N', 3] },
      { name: 'ood_distance', shape: ['N'] },
    ],
    thresholds: {},
    gate: {
      signal: 'ood_distance',
      method: 'fake',
      oodDistanceThreshold: 1,
      aurocNotRadiograph: null,
      aurocWrongBodyPart: null,
    },
  });
}

interface PendingRun {
  feeds: TensorMap;
  finish(): void;
  fail(error: unknown): void;
}

/**
 * A session that answers only when the test says so. Each item's logits are `[tag, first input
 * value]`, so a test can tell which session (version) served it and that outputs were split per item.
 */
class FakeSession implements ModelSession {
  readonly outputNames = ['logits', 'embedding', 'ood_distance'];
  readonly runs: PendingRun[] = [];
  readonly batchSizes: number[] = [];
  released = false;

  constructor(
    readonly inputNames: readonly string[],
    readonly provider: string,
    private readonly tag: number,
  ) {}

  run(feeds: TensorMap): Promise<TensorMap> {
    const n = feeds[this.inputNames[0]!]!.dims[0]!;
    this.batchSizes.push(n);
    return new Promise((resolve, reject) => {
      const first = feeds[this.inputNames[0]!]!.data;
      const logits = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) logits.set([this.tag, first[i * SIZE * SIZE]!], i * 2);
      this.runs.push({
        feeds,
        finish: () =>
          resolve({
            logits: { data: logits, dims: [n, 2] },
            embedding: { data: new Float32Array(n * 3).fill(this.tag), dims: [n, 3] },
            ood_distance: { data: new Float32Array(n).fill(0.5), dims: [n] },
          }),
        fail: reject,
      });
    });
  }

  /** Finishes every run started so far. */
  finishAll(): void {
    for (const r of this.runs.splice(0)) r.finish();
  }

  async release(): Promise<void> {
    this.released = true;
  }
}

/** Opens fake sessions; CUDA is "not available" so it falls back to CPU like the real adapter. */
class FakeSessionFactory implements SessionFactory {
  readonly sessions = new Map<string, FakeSession>();
  readonly options: SessionOptions[] = [];
  readonly paths: string[] = [];
  private nextTag = 1;

  async load(modelPath: string, options: SessionOptions): Promise<ModelSession> {
    this.options.push(options);
    this.paths.push(modelPath);
    const dirName = modelPath.split('/').at(-2)!;
    const inputs = dirName.startsWith('wrist') ? ['pa', 'lateral'] : ['image'];
    const provider = options.executionProviders.find((p) => p !== 'cuda') ?? 'cpu';
    const session = new FakeSession(inputs, provider, this.nextTag++);
    this.sessions.set(dirName, session);
    return session;
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const view = (value: number): Float32Array => new Float32Array(SIZE * SIZE).fill(value);

/** The fixture every block sets up afresh for each test (`setUp`, `tearDown`). */
let root: string;
let factory: FakeSessionFactory;
let engine: DynamicBatchingEngine;

/** Writes a model folder `<root>/<name>` whose manifest says `task`/`version`. */
function modelDir(name: string, task: 'chest' | 'wrist' = 'chest', version = name): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify(manifestJson(task, version, task === 'wrist' ? ['pa', 'lateral'] : ['image'])),
  );
  writeFileSync(join(dir, 'model.onnx'), 'not really onnx');
  return dir;
}

/** A temporary model root, a fake factory, and an engine over it (CUDA then CPU, 2 threads, batches of 4). */
function setUp(): void {
  root = mkdtempSync(join(tmpdir(), 'engine-spec-'));
  factory = new FakeSessionFactory();
  engine = new DynamicBatchingEngine({
    sessionFactory: factory,
    executionProviders: ['cuda', 'cpu'],
    intraOpThreads: 2,
    maxBatchSize: 4,
  });
}

function tearDown(): void {
  rmSync(root, { recursive: true, force: true });
}

/** Like the fake factory, but its sessions run side by side (as worker sessions do); keeps every one. */
class ConcurrentFactory extends FakeSessionFactory {
  readonly concurrentSessions = true;
  readonly all: FakeSession[] = [];
  failAfter = Infinity;
  private calls = 0;
  override async load(modelPath: string, options: SessionOptions): Promise<ModelSession> {
    if (this.calls++ >= this.failAfter) throw new Error('out of memory');
    const session = (await super.load(modelPath, options)) as FakeSession;
    this.all.push(session);
    return session;
  }
}

/** An engine that runs each version as a wide session and an instance group of two (4 threads in all). */
function groupEngine(f: SessionFactory): DynamicBatchingEngine {
  return new DynamicBatchingEngine({
    sessionFactory: f,
    intraOpThreads: 4,
    instances: 2,
    maxBatchSize: 2,
  });
}

describe('DynamicBatchingEngine (fake sessions): loading and batching', () => {
  beforeEach(setUp);
  afterEach(tearDown);

  it('activates the first loaded version, passes providers and threads to the factory, and reports the provider really used', async () => {
    await engine.loadVersion('chest', 'v1', modelDir('v1'));
    expect(engine.activeVersion('chest')).toBe('v1');
    // Idle intra-op threads sleep unless spin-waiting was asked for.
    expect(factory.options[0]).toEqual({
      executionProviders: ['cuda', 'cpu'],
      intraOpThreads: 2,
      spinWait: false,
    });
    expect(engine.health()).toEqual([
      {
        task: 'chest',
        version: 'v1',
        active: true,
        provider: 'cpu',
        precision: 'fp32',
        instances: 1,
        queueDepth: 0,
        queueDepthByPriority: { STAT: 0, URGENT: 0, ROUTINE: 0 },
        inFlight: 0,
        draining: false,
      },
    ]);
    expect(engine.manifest('chest').version).toBe('v1');
  });

  it('batches concurrent requests into one run and splits outputs per item (batch dimension removed)', async () => {
    await engine.loadVersion('chest', 'v1', modelDir('v1'));
    const session = factory.sessions.get('v1')!;
    const results = [1, 2, 3].map((v) =>
      engine.infer({ task: 'chest', views: [view(v)], priority: 'ROUTINE' }),
    );
    await settle();
    expect(session.batchSizes).toEqual([3]);
    expect(session.runs[0]!.feeds.image!.dims).toEqual([3, 1, SIZE, SIZE]);
    session.finishAll();
    const served = await Promise.all(results);
    expect(served.map((r) => Array.from(r.outputs.logits!.data))).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    expect(served[0]!.outputs.logits!.dims).toEqual([2]);
    expect(served[0]!.outputs.ood_distance!.dims).toEqual([]);
    expect(served[0]!.timings.batchSize).toBe(3);
  });

  it('stacks each input of a two-view model under its own name', async () => {
    await engine.loadVersion('wrist', 'v1', modelDir('wrist-v1', 'wrist', 'v1'));
    const session = factory.sessions.get('wrist-v1')!;
    const a = engine.infer({ task: 'wrist', views: [view(1), view(2)], priority: 'ROUTINE' });
    const b = engine.infer({ task: 'wrist', views: [view(3), view(4)], priority: 'ROUTINE' });
    await settle();
    const feeds = session.runs[0]!.feeds;
    expect(Object.keys(feeds)).toEqual(['pa', 'lateral']);
    expect(Array.from(feeds.lateral!.data.filter((_, i) => i % (SIZE * SIZE) === 0))).toEqual([2, 4]);
    session.finishAll();
    await Promise.all([a, b]);
  });
});

describe('DynamicBatchingEngine (fake sessions): observer and per-task knobs', () => {
  beforeEach(setUp);
  afterEach(tearDown);

  it('tells its observer of every batch and request: sizes, the version served, and refusals by code', async () => {
    const batches: InferenceBatchEvent[] = [];
    const requests: InferenceRequestEvent[] = [];
    const observed = new DynamicBatchingEngine({
      sessionFactory: factory,
      maxBatchSize: 4,
      observer: {
        batchFinished: (e) => batches.push(e),
        requestFinished: (e) => requests.push(e),
      },
    });
    await observed.loadVersion('chest', 'v1', modelDir('v1'));
    const session = factory.sessions.get('v1')!;
    const served = [1, 2, 3].map((v) =>
      observed.infer({ task: 'chest', views: [view(v)], priority: 'ROUTINE' }),
    );
    const lane = () => observed.health()[0]!.queueDepthByPriority;
    await settle();
    const queuedStat = observed.infer({ task: 'chest', views: [view(4)], priority: 'STAT' });
    expect(lane()).toEqual({ STAT: 1, URGENT: 0, ROUTINE: 0 });
    session.finishAll();
    await Promise.all(served);
    await settle();
    session.finishAll();
    await queuedStat;
    await expect(
      observed.infer({ task: 'wrist', views: [view(1)], priority: 'ROUTINE' }),
    ).rejects.toMatchObject({
      code: 'MODEL_NOT_LOADED',
    });
    expect(batches.map((b) => [b.task, b.version, b.size, b.ok])).toEqual([
      ['chest', 'v1', 3, true],
      ['chest', 'v1', 1, true],
    ]);
    expect(batches.every((b) => b.durationMs >= 0)).toBe(true);
    expect(requests.map((r) => [r.task, r.version, r.outcome, r.timings?.batchSize])).toEqual([
      ['chest', 'v1', 'ok', 3],
      ['chest', 'v1', 'ok', 3],
      ['chest', 'v1', 'ok', 3],
      ['chest', 'v1', 'ok', 1],
      ['wrist', 'none', 'MODEL_NOT_LOADED', undefined],
    ]);
    await observed.close();
  });

  it('applies per-task batching knobs over the engine-wide ones', async () => {
    const tuned = new DynamicBatchingEngine({
      sessionFactory: factory,
      maxBatchSize: 4,
      perTask: { wrist: { maxBatchSize: 1 } },
    });
    await tuned.loadVersion('wrist', 'v1', modelDir('wrist-v1', 'wrist', 'v1'));
    await tuned.loadVersion('chest', 'v1', modelDir('v1'));
    const wrist = factory.sessions.get('wrist-v1')!;
    const chest = factory.sessions.get('v1')!;
    const all = [1, 2, 3].flatMap((v) => [
      tuned.infer({ task: 'wrist', views: [view(v), view(v)], priority: 'ROUTINE' }),
      tuned.infer({ task: 'chest', views: [view(v)], priority: 'ROUTINE' }),
    ]);
    for (let i = 0; i < 3; i++) {
      await settle();
      wrist.finishAll();
      chest.finishAll();
    }
    await Promise.all(all);
    expect(wrist.batchSizes).toEqual([1, 1, 1]);
    expect(chest.batchSizes).toEqual([3]);
  });
});

describe('DynamicBatchingEngine (fake sessions): versions and close', () => {
  beforeEach(setUp);
  afterEach(tearDown);

  it('pins each request to the version active when it was admitted: in-flight finish on v1 after activate(v2), new ones go to v2', async () => {
    await engine.loadVersion('chest', 'v1', modelDir('v1'));
    await engine.loadVersion('chest', 'v2', modelDir('v2'));
    expect(engine.activeVersion('chest')).toBe('v1');
    const v1 = factory.sessions.get('v1')!;
    const v2 = factory.sessions.get('v2')!;

    const running = engine.infer({ task: 'chest', views: [view(1)], priority: 'ROUTINE' });
    await settle();
    const queuedOnV1 = engine.infer({ task: 'chest', views: [view(2)], priority: 'ROUTINE' });
    engine.activate('chest', 'v2');
    const onV2 = engine.infer({ task: 'chest', views: [view(3)], priority: 'ROUTINE' });
    const explicitV1 = engine.infer({ task: 'chest', version: 'v1', views: [view(4)], priority: 'ROUTINE' });
    await settle();
    expect(v2.batchSizes).toEqual([1]);
    v2.finishAll();
    v1.finishAll();
    await settle();
    v1.finishAll();
    const served: InferResult[] = await Promise.all([running, queuedOnV1, onV2, explicitV1]);
    expect(served.map((r) => r.version)).toEqual(['v1', 'v1', 'v2', 'v1']);
    expect(served.map((r) => r.outputs.logits!.data[0])).toEqual([1, 1, 2, 1]);
    expect(v1.batchSizes).toEqual([1, 2]);
  });

  it('unloadVersion refuses new requests at once, waits for in-flight ones to drain, then releases the session', async () => {
    await engine.loadVersion('chest', 'v1', modelDir('v1'));
    await engine.loadVersion('chest', 'v2', modelDir('v2'), { activate: true });
    const v1 = factory.sessions.get('v1')!;
    const inFlight = [engine.infer({ task: 'chest', version: 'v1', views: [view(1)], priority: 'ROUTINE' })];
    await settle();
    inFlight.push(engine.infer({ task: 'chest', version: 'v1', views: [view(2)], priority: 'ROUTINE' }));
    let unloaded = false;
    const unloading = engine.unloadVersion('chest', 'v1').then(() => (unloaded = true));
    expect(engine.health().find((h) => h.version === 'v1')).toMatchObject({ draining: true, inFlight: 2 });
    await expect(
      engine.infer({ task: 'chest', version: 'v1', views: [view(9)], priority: 'ROUTINE' }),
    ).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
    v1.finishAll();
    await settle();
    expect(unloaded).toBe(false);
    expect(v1.released).toBe(false);
    v1.finishAll();
    await unloading;
    expect(v1.released).toBe(true);
    expect((await Promise.all(inFlight)).map((r) => r.version)).toEqual(['v1', 'v1']);
    expect(engine.health().map((h) => h.version)).toEqual(['v2']);
    await expect(
      engine.infer({ task: 'chest', version: 'v1', views: [view(1)], priority: 'ROUTINE' }),
    ).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
  });

  it('close() drains and releases every version', async () => {
    await engine.loadVersion('chest', 'v1', modelDir('v1'));
    const session = factory.sessions.get('v1')!;
    const pending = engine.infer({ task: 'chest', views: [view(1)], priority: 'STAT' });
    await settle();
    const closing = engine.close();
    session.finishAll();
    await closing;
    await expect(pending).resolves.toMatchObject({ version: 'v1' });
    expect(session.released).toBe(true);
    expect(engine.health()).toEqual([]);
    expect(engine.activeVersion('chest')).toBeNull();
  });
});

describe('DynamicBatchingEngine (fake sessions): failures and refusals', () => {
  beforeEach(setUp);
  afterEach(tearDown);

  it('fails only the batch whose run threw', async () => {
    await engine.loadVersion('chest', 'v1', modelDir('v1'));
    const session = factory.sessions.get('v1')!;
    const first = engine.infer({ task: 'chest', views: [view(1)], priority: 'ROUTINE' });
    await settle();
    const second = engine.infer({ task: 'chest', views: [view(2)], priority: 'ROUTINE' });
    session.runs.shift()!.fail(new Error('kernel fault'));
    await expect(first).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
    await settle();
    session.finishAll();
    await expect(second).resolves.toMatchObject({ version: 'v1' });
  });

  it('rejects bad requests and states with typed codes', async () => {
    const codeOf = (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> =>
      (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
        () => undefined,
        (e: unknown) => (e instanceof AppError ? e.code : String(e)),
      );
    expect(await codeOf(engine.infer({ task: 'chest', views: [view(1)], priority: 'ROUTINE' }))).toBe(
      'MODEL_NOT_LOADED',
    );
    await engine.loadVersion('chest', 'v1', modelDir('v1'));
    expect(await codeOf(engine.loadVersion('chest', 'v1', modelDir('v1')))).toBe('CONFLICT');
    expect(await codeOf(engine.loadVersion('wrist', 'x', modelDir('x', 'chest')))).toBe('MODEL_LOAD_FAILED');
    expect(await codeOf(engine.loadVersion('chest', 'missing', join(root, 'nowhere')))).toBe(
      'MODEL_LOAD_FAILED',
    );
    expect(
      await codeOf(engine.infer({ task: 'chest', views: [view(1), view(2)], priority: 'ROUTINE' })),
    ).toBe('BAD_USER_INPUT');
    expect(
      await codeOf(engine.infer({ task: 'chest', views: [new Float32Array(3)], priority: 'ROUTINE' })),
    ).toBe('BAD_USER_INPUT');
    expect(
      await codeOf(engine.infer({ task: 'chest', version: 'v9', views: [view(1)], priority: 'ROUTINE' })),
    ).toBe('MODEL_NOT_LOADED');
    expect(await codeOf(() => engine.activate('chest', 'v9'))).toBe('MODEL_NOT_LOADED');
    expect(await codeOf(engine.unloadVersion('chest', 'v9'))).toBe('MODEL_NOT_LOADED');
    expect(factory.sessions.get('x')?.released).toBe(true);
  });
});

describe('DynamicBatchingEngine (fake sessions) with an instance group', () => {
  beforeEach(setUp);
  afterEach(tearDown);

  it('asks every session of the group to spin-wait only when configured to', async () => {
    const f = new ConcurrentFactory();
    const spinning = new DynamicBatchingEngine({
      sessionFactory: f,
      intraOpThreads: 4,
      instances: 2,
      spinWait: true,
    });
    await spinning.loadVersion('chest', 'v1', modelDir('v1'));
    expect(f.options.map((o) => o.spinWait)).toEqual([true, true, true]);
  });

  it('loads a wide session and two instances with a share of the threads each, and reports them', async () => {
    const f = new ConcurrentFactory();
    const grouped = groupEngine(f);
    await grouped.loadVersion('chest', 'v1', modelDir('v1'));
    expect(f.options.map((o) => o.intraOpThreads)).toEqual([4, 2, 2]);
    // The wide session runs alone now and then: its threads stop spinning when a run ends.
    expect(f.options.map((o) => o.stopSpinningAfterRun)).toEqual([true, false, false]);
    expect(f.options.map((o) => o.spinWait)).toEqual([false, false, false]);
    expect(f.options.slice(1).every((o) => o.executionProviders.join() === 'cpu')).toBe(true);
    expect(grouped.health()[0]).toMatchObject({ instances: 2, provider: 'cpu' });
    const [wide, first, second] = f.all;

    // Light load: one request runs alone on the wide session.
    const alone = grouped.infer({ task: 'chest', views: [view(1)], priority: 'ROUTINE' });
    await settle();
    expect(wide!.batchSizes).toEqual([1]);
    wide!.finishAll();
    await alone;

    // A backlog: batches run side by side on the two instances, never on the wide session.
    const burst = [1, 2, 3, 4, 5].map((v) =>
      grouped.infer({ task: 'chest', views: [view(v)], priority: 'ROUTINE' }),
    );
    await settle();
    expect([first!.batchSizes, second!.batchSizes]).toEqual([[2], [2]]);
    first!.finishAll();
    await settle();
    expect(first!.batchSizes).toEqual([2, 1]);
    first!.finishAll();
    second!.finishAll();
    const served = await Promise.all(burst);
    expect(served.map((r) => r.outputs.logits!.data[1])).toEqual([1, 2, 3, 4, 5]);
    expect(wide!.batchSizes).toEqual([1]);

    await grouped.close();
    expect(f.all.every((x) => x.released)).toBe(true);
  });

  it('fails the load with MODEL_LOAD_FAILED and releases what it opened when an instance cannot load', async () => {
    const f = new ConcurrentFactory();
    f.failAfter = 2;
    const grouped = groupEngine(f);
    await expect(grouped.loadVersion('chest', 'v1', modelDir('v1'))).rejects.toMatchObject({
      code: 'MODEL_LOAD_FAILED',
    });
    expect(f.all).toHaveLength(2);
    expect(f.all.every((x) => x.released)).toBe(true);
    expect(grouped.health()).toEqual([]);
  });

  it('loads one session when the factory runs sessions on one thread (instances cannot run side by side)', async () => {
    const grouped = groupEngine(factory);
    await grouped.loadVersion('chest', 'v1', modelDir('v1'));
    expect(factory.options).toHaveLength(1);
    expect(grouped.health()[0]!.instances).toBe(1);
  });
});

/** `modelDir(name)` with an int8 graph beside model.onnx, recorded in model.json as given. */
function withInt8(name: string, variant: { accepted: boolean; sha256?: string }): string {
  const dir = modelDir(name);
  writeFileSync(join(dir, 'model.int8.onnx'), 'int8 bytes');
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  manifest.variants = {
    int8: {
      file: 'model.int8.onnx',
      sha256: variant.sha256 ?? createHash('sha256').update('int8 bytes').digest('hex'),
      accepted: variant.accepted,
      gate: { oodDistanceThreshold: 7.5 },
    },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
  return dir;
}

function int8Engine(warnings: object[]): DynamicBatchingEngine {
  return new DynamicBatchingEngine({
    sessionFactory: factory,
    precision: 'int8',
    log: { info: () => undefined, warn: (o) => warnings.push(o) },
  });
}

describe('DynamicBatchingEngine (fake sessions): ENGINE_PRECISION', () => {
  beforeEach(setUp);
  afterEach(tearDown);

  it('serves an accepted int8 graph with its own gate thresholds, and says so in health()', async () => {
    const warnings: object[] = [];
    const int8 = int8Engine(warnings);
    await int8.loadVersion('chest', 'v1', withInt8('v1', { accepted: true }));
    expect(factory.paths.at(-1)).toBe(join(root, 'v1', 'model.int8.onnx'));
    expect(int8.manifest('chest', 'v1').gate.oodDistanceThreshold).toBe(7.5);
    expect(int8.health()[0]).toMatchObject({ version: 'v1', precision: 'int8' });
    expect(int8.precision('chest')).toBe('int8');
    expect(warnings).toEqual([]);
    // the same folder at fp32 (the default) runs model.onnx with model.json's own gate
    await engine.loadVersion('chest', 'v1', join(root, 'v1'));
    expect(factory.paths.at(-1)).toBe(join(root, 'v1', 'model.onnx'));
    expect(engine.manifest('chest', 'v1').gate.oodDistanceThreshold).toBe(1);
    expect(engine.health()[0]).toMatchObject({ precision: 'fp32' });
    expect(engine.precision('chest', 'v1')).toBe('fp32');
  });

  it('runs model.onnx, with a warning that says why, for a version without an accepted int8 graph', async () => {
    const warnings: object[] = [];
    const int8 = int8Engine(warnings);
    await int8.loadVersion('chest', 'v1', modelDir('v1'));
    await int8.loadVersion('chest', 'v2', withInt8('v2', { accepted: false }));
    expect(factory.paths).toEqual([join(root, 'v1', 'model.onnx'), join(root, 'v2', 'model.onnx')]);
    expect(int8.health().map((h) => h.precision)).toEqual(['fp32', 'fp32']);
    expect(warnings).toEqual([
      expect.objectContaining({
        version: 'v1',
        precision: 'fp32',
        reason: expect.stringMatching(/no int8 graph/),
      }),
      expect.objectContaining({
        version: 'v2',
        precision: 'fp32',
        reason: expect.stringMatching(/not accepted/),
      }),
    ]);
  });

  it('refuses to load an accepted int8 graph whose bytes are not the ones model.json names', async () => {
    const int8 = int8Engine([]);
    const err = await int8
      .loadVersion('chest', 'v1', withInt8('v1', { accepted: true, sha256: 'a'.repeat(64) }))
      .catch((e: AppError) => e);
    expect(err).toMatchObject({ code: 'MODEL_LOAD_FAILED', message: expect.stringMatching(/sha256/) });
    expect(factory.paths).toEqual([]);
    expect(int8.health()).toEqual([]);
  });

  it('refuses to load an accepted int8 graph that is not there', async () => {
    const dir = withInt8('v1', { accepted: true });
    rmSync(join(dir, 'model.int8.onnx'));
    const err = await int8Engine([])
      .loadVersion('chest', 'v1', dir)
      .catch((e: AppError) => e);
    expect(err).toMatchObject({ code: 'MODEL_LOAD_FAILED', message: 'model.int8.onnx is missing' });
    expect(factory.paths).toEqual([]);
  });

  it('rejects a model.json whose int8 variant names a file outside its folder', async () => {
    const dir = withInt8('v1', { accepted: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      variants: { int8: { file: string } };
    };
    manifest.variants.int8.file = '../v2/model.onnx';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
    const err = await int8Engine([])
      .loadVersion('chest', 'v1', dir)
      .catch((e: AppError) => e);
    expect(err).toMatchObject({ code: 'MODEL_LOAD_FAILED', message: expect.stringMatching(/model.json/) });
  });
});

describe('DynamicBatchingEngine (fake sessions) with an instance group on a busy host', () => {
  beforeEach(setUp);
  afterEach(tearDown);

  it('runs a lone request on an instance, not the wide session, while the host load says the cores are busy', async () => {
    const f = new ConcurrentFactory();
    let busy = true;
    const grouped = new DynamicBatchingEngine({
      sessionFactory: f,
      intraOpThreads: 4,
      instances: 2,
      hostLoad: { busy: () => busy },
    });
    await grouped.loadVersion('chest', 'v1', modelDir('v1'));
    const [wide, first] = f.all;
    const onBusyHost = grouped.infer({ task: 'chest', views: [view(1)], priority: 'ROUTINE' });
    await settle();
    expect([wide!.batchSizes, first!.batchSizes]).toEqual([[], [1]]);
    first!.finishAll();
    await onBusyHost;
    busy = false;
    const onIdleHost = grouped.infer({ task: 'chest', views: [view(2)], priority: 'ROUTINE' });
    await settle();
    expect(wide!.batchSizes).toEqual([1]);
    wide!.finishAll();
    await onIdleHost;
    await grouped.close();
  });
});

/**
 * Hot swap under load with the real chest model: 200 concurrent requests of mixed priority while
 * version v1b (a second copy of the same folder) is activated and v1 is unloaded. None may fail;
 * each finishes on the version it was admitted to, and both copies give the same answer per image.
 * Run twice: sessions on the event loop, and as the product serves (worker-thread sessions, two
 * model instances per version). The model folder is models/chest/v1 (CARE_CHEST_MODEL_DIR overrides it).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, toModelTensor } from '../../src/imaging';
import { DynamicBatchingEngine } from '../../src/inference/dynamic-batching.engine';
import type { InferResult, Priority } from '../../src/inference/inference-engine';
import type { SessionFactory } from '../../src/inference/model-session';
import { OnnxSessionFactory } from '../../src/inference/onnx/onnx-session.factory';
import { WorkerSessionFactory } from '../../src/inference/onnx/worker-session.factory';
import { sharedDataAvailable, sharedFile, SHARED_DIR } from '../support/shared-data';
import { requireOrSkip } from '../support/test-database';

const MODEL_DIR = path.resolve(
  process.env.CARE_CHEST_MODEL_DIR ?? path.join(__dirname, '..', '..', 'models', 'chest', 'v1'),
);
const CHEST_DIR = 'chest/tbx11k/images';
const LIMITS = { maxBytes: 256 * 1024 * 1024, maxPixels: 50_000_000 };
const PRIORITIES: Priority[] = ['ROUTINE', 'ROUTINE', 'URGENT', 'STAT'];

const ready =
  requireOrSkip(
    existsSync(path.join(MODEL_DIR, 'model.onnx')),
    `chest model not found at ${MODEL_DIR} (set CARE_CHEST_MODEL_DIR)`,
  ) && sharedDataAvailable();
const describeReal = ready ? describe : describe.skip;

const layouts: [string, (log: { warn(obj: object): void }) => SessionFactory, number][] = [
  ['sessions on the event loop', (log) => new OnnxSessionFactory(log), 1],
  ['worker-thread sessions, two instances per version', (log) => new WorkerSessionFactory({ log }), 2],
];

describeReal.each(layouts)(
  'DynamicBatchingEngine hot swap (real chest model, %s)',
  (_, factory, instances) => {
    const fallbacks: { provider?: string }[] = [];
    const engine = new DynamicBatchingEngine({
      sessionFactory: factory({ warn: (obj) => fallbacks.push(obj) }),
      executionProviders: ['cuda', 'cpu'],
      intraOpThreads: 2,
      instances,
    });
    let images: Float32Array[];

    beforeAll(async () => {
      await engine.loadVersion('chest', 'v1', MODEL_DIR);
      await engine.loadVersion('chest', 'v1b', MODEL_DIR, { activate: false });
      const size = engine.manifest('chest').input.size;
      const files = readdirSync(path.join(SHARED_DIR, 'datasets', CHEST_DIR))
        .filter((f) => /\.jpe?g$/i.test(f))
        .sort()
        .slice(0, 8);
      images = await Promise.all(
        files.map(async (f) =>
          toModelTensor(await decodeImage(sharedFile(`${CHEST_DIR}/${f}`), LIMITS), size),
        ),
      );
    });

    afterAll(() => engine.close());

    it('serves 200 concurrent requests through activate(v1b) and unload(v1) without a failure, each on the version it was admitted to', async () => {
      // health() reports where each session really runs: CPU exactly when the factory fell back from CUDA.
      const provider = fallbacks.some((f) => f.provider === 'cuda') ? 'cpu' : 'cuda';
      expect(engine.health().map((h) => [h.version, h.active, h.provider, h.instances])).toEqual([
        ['v1', true, provider, provider === 'cpu' ? instances : 1],
        ['v1b', false, provider, provider === 'cpu' ? instances : 1],
      ]);
      const submit = (i: number): Promise<InferResult> =>
        engine.infer({
          task: 'chest',
          views: [images[i % images.length]!],
          priority: PRIORITIES[i % PRIORITIES.length]!,
        });

      const before = Array.from({ length: 60 }, (_, i) => submit(i));
      await Promise.allSettled([before[0]]);
      const beforeSwap = Array.from({ length: 40 }, (_, i) => submit(60 + i));
      engine.activate('chest', 'v1b');
      const after = Array.from({ length: 100 }, (_, i) => submit(100 + i));
      const pinnedToV1 = [...before, ...beforeSwap].map((p) => {
        const s = { settled: false };
        void p.then(() => (s.settled = true));
        return s;
      });
      const v1Settled: boolean[] = [];
      const unloaded = engine
        .unloadVersion('chest', 'v1')
        .then(() => v1Settled.push(...pinnedToV1.map((p) => p.settled)));
      expect(engine.health().find((h) => h.version === 'v1')?.draining).toBe(true);

      const results = await Promise.allSettled([...before, ...beforeSwap, ...after]);
      await unloaded;
      const failures = results.filter((r) => r.status === 'rejected');
      expect(failures).toEqual([]);
      const served = results.map((r) => (r as PromiseFulfilledResult<InferResult>).value);
      expect(served.slice(0, 100).every((r) => r.version === 'v1')).toBe(true);
      expect(served.slice(100).every((r) => r.version === 'v1b')).toBe(true);
      expect(v1Settled).toHaveLength(100);
      expect(v1Settled.every(Boolean)).toBe(true);
      expect(Math.max(...served.map((r) => r.timings.batchSize))).toBeGreaterThan(1);

      // Same weights, batched differently: the same image gives the same logits on both copies.
      const classes = engine.manifest('chest', 'v1b').classes.length;
      for (let i = 0; i < images.length; i++) {
        const a = served[i]!.outputs.logits!;
        const b =
          served[100 + ((images.length - (100 % images.length) + i) % images.length)]!.outputs.logits!;
        expect(a.dims).toEqual([classes]);
        for (let k = 0; k < classes; k++) expect(b.data[k]).toBeCloseTo(a.data[k]!, 3);
      }
      expect(engine.health().map((h) => [h.version, h.active])).toEqual([['v1b', true]]);
    });
  },
);

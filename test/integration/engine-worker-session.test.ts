/**
 * WorkerSessionFactory with the real chest model (models/chest/v1): sessions on their own worker
 * thread must answer exactly like the main-thread adapter, fail to load the same way, survive a killed
 * worker, leave the event loop free during a large batch, and, behind the dynamic batching engine,
 * never detach the caller's image tensor.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Worker } from 'node:worker_threads';
import { AppError } from '../../src/errors';
import { DynamicBatchingEngine } from '../../src/inference/dynamic-batching.engine';
import type { ModelSession, TensorMap } from '../../src/inference/model-session';
import { OnnxSessionFactory } from '../../src/inference/onnx/onnx-session.factory';
import type { SessionWorkerData } from '../../src/inference/onnx/session-worker.protocol';
import { spawnSessionWorker, WorkerSessionFactory } from '../../src/inference/onnx/worker-session.factory';
import { requireOrSkip } from '../support/test-database';

const MODEL_DIR = path.resolve(__dirname, '..', '..', 'models', 'chest', 'v1');
const MODEL = path.join(MODEL_DIR, 'model.onnx');
const SIZE = 224;
const cpu = { executionProviders: ['cpu'], intraOpThreads: 1 };

/** Deterministic pseudo-random batch `[n, 1, 224, 224]` (xorshift). */
function batch(n: number, seed = 1): TensorMap {
  const data = new Float32Array(n * SIZE * SIZE);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = ((s >>> 0) / 4294967296 - 0.5) * 2;
  }
  return { image: { data, dims: [n, 1, SIZE, SIZE] } };
}

/** A copy of the feeds (the worker session takes ownership of buffers it is given whole). */
const copy = (feeds: TensorMap): TensorMap =>
  Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { data: t.data.slice(), dims: [...t.dims] }]));

function maxAbsDiff(a: TensorMap, b: TensorMap): number {
  let max = 0;
  for (const name of Object.keys(a)) {
    expect(b[name]!.dims).toEqual(a[name]!.dims);
    expect(b[name]!.data.length).toBe(a[name]!.data.length);
    a[name]!.data.forEach((v, i) => (max = Math.max(max, Math.abs(v - b[name]!.data[i]!))));
  }
  return max;
}

const ready = requireOrSkip(existsSync(MODEL), `chest model not found at ${MODEL}`);
const describeReal = ready ? describe : describe.skip;

describeReal('WorkerSessionFactory (real chest model)', () => {
  const workers: Worker[] = [];
  const spawn = (data: SessionWorkerData): Worker => {
    const w = spawnSessionWorker(data);
    workers.push(w);
    return w;
  };
  const factory = new WorkerSessionFactory({ spawn });
  let main: ModelSession;
  let worker: ModelSession;

  beforeAll(async () => {
    [main, worker] = await Promise.all([new OnnxSessionFactory().load(MODEL, cpu), factory.load(MODEL, cpu)]);
  });

  afterAll(async () => {
    await Promise.all([main?.release(), worker?.release()]);
  });

  it('gives the same outputs as the main-thread factory and reports names and provider after load', async () => {
    expect(worker.inputNames).toEqual(main.inputNames);
    expect(worker.outputNames).toEqual(['logits', 'embedding', 'cam', 'ood_distance']);
    expect(worker.provider).toBe('cpu');
    const feeds = batch(3, 7);
    const expected = await main.run(copy(feeds));
    const got = await worker.run(copy(feeds));
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    expect(got.logits!.dims).toEqual([3, 3]);
    expect(maxAbsDiff(expected, got)).toBeLessThanOrEqual(1e-6);
  });

  it('borrows a feed that owns its whole buffer, hands it back when the run settles, and copies a view into a larger one', async () => {
    const owned = batch(1, 3);
    const original = owned.image!.data;
    const expectedValues = Float32Array.from(original);
    await worker.run(owned);
    expect(original.length).toBe(0); // transferred: this array stays detached
    expect(owned.image!.data).not.toBe(original);
    expect(owned.image!.data).toEqual(expectedValues); // the same memory, back from the worker

    const wrong = { image: { data: new Float32Array(4), dims: [1, 1, 2, 2] } };
    await expect(worker.run(wrong)).rejects.toThrow(/invalid dimensions/i);
    expect(wrong.image.data.length).toBe(4); // a failed run hands its feed back too

    const shared = batch(2, 3).image!.data;
    const view = shared.subarray(SIZE * SIZE);
    const out = await worker.run({ image: { data: view, dims: [1, 1, SIZE, SIZE] } });
    expect(shared.length).toBe(2 * SIZE * SIZE);
    expect(view.length).toBe(SIZE * SIZE);
    expect(out.logits!.dims).toEqual([1, 3]);
  });

  it('rejects a corrupt model at load with the same error as the main-thread factory and leaves no worker', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'corrupt-model-'));
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, 'this is not an onnx model');
    try {
      const mainError = await new OnnxSessionFactory().load(file, cpu).then(
        () => null,
        (e: Error) => e,
      );
      const before = workers.length;
      const workerError = await factory.load(file, cpu).then(
        () => null,
        (e: Error) => e,
      );
      expect(mainError).not.toBeNull();
      expect(workerError).not.toBeNull();
      expect(workerError).not.toBeInstanceOf(AppError);
      expect(workerError!.name).toBe(mainError!.name);
      expect(workerError!.message).toBe(mainError!.message);
      const spawned = workers[before]!;
      await new Promise<void>((resolve) =>
        spawned.threadId < 0 ? resolve() : spawned.once('exit', () => resolve()),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a run in flight with INFERENCE_WORKER_CRASHED when its worker dies, and restarts it on the next run', async () => {
    const session = await factory.load(MODEL, cpu);
    try {
      const victim = workers[workers.length - 1]!;
      const inFlight = session.run(batch(8, 5));
      await victim.terminate();
      await expect(inFlight).rejects.toMatchObject({ code: 'INFERENCE_WORKER_CRASHED' });

      const spawnedBefore = workers.length;
      const feeds = batch(2, 11);
      const expected = await main.run(copy(feeds));
      const after = await session.run(copy(feeds));
      expect(workers.length).toBe(spawnedBefore + 1);
      expect(maxAbsDiff(expected, after)).toBeLessThanOrEqual(1e-6);
      expect(session.provider).toBe('cpu');
    } finally {
      await session.release();
    }
  });

  it('fails runs after release with INFERENCE_SESSION_RELEASED and stops the worker', async () => {
    const session = await factory.load(MODEL, cpu);
    const thread = workers[workers.length - 1]!;
    const exited = new Promise<number>((resolve) => thread.once('exit', resolve));
    await session.release();
    await exited;
    await expect(session.run(batch(1))).rejects.toMatchObject({ code: 'INFERENCE_SESSION_RELEASED' });
  });

  it('passes a worker error back as an Error with the runtime message', async () => {
    const wrong = { image: { data: new Float32Array(4), dims: [1, 1, 2, 2] } };
    const error = await worker.run(wrong).then(
      () => null,
      (e: Error) => e,
    );
    expect(error).not.toBeNull();
    expect(error!.message).toMatch(/invalid dimensions/i);
  });

  it('keeps the event loop running while the worker runs a batch of 32', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const out = await worker.run(batch(32, 9));
      expect(out.logits!.dims).toEqual([32, 3]);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(1);
  });

  it("leaves the caller's image tensor intact through the dynamic batching engine (heatmap input)", async () => {
    const engine = new DynamicBatchingEngine({
      sessionFactory: new WorkerSessionFactory(),
      executionProviders: ['cpu'],
      intraOpThreads: 1,
    });
    try {
      await engine.loadVersion('chest', 'v1', MODEL_DIR);
      const view = batch(1, 13).image!.data;
      const expected = await main.run({ image: { data: view.slice(), dims: [1, 1, SIZE, SIZE] } });
      const result = await engine.infer({ task: 'chest', views: [view], priority: 'ROUTINE' });
      expect(view.length).toBe(SIZE * SIZE);
      expect(Array.from(result.outputs.logits!.data)).toEqual(
        Array.from(expected.logits!.data).map((v) => expect.closeTo(v, 6)),
      );
    } finally {
      await engine.close();
    }
  });

  it('serves a burst on two model instances side by side and a lone request on the wide session, with the same answers', async () => {
    const engine = new DynamicBatchingEngine({
      sessionFactory: new WorkerSessionFactory(),
      executionProviders: ['cpu'],
      intraOpThreads: 2,
      instances: 2,
      maxBatchSize: 4,
    });
    const sizes: number[] = [];
    try {
      await engine.loadVersion('chest', 'v1', MODEL_DIR);
      expect(engine.health()[0]).toMatchObject({ instances: 2, provider: 'cpu' });
      const views = Array.from({ length: 10 }, (_, i) => batch(1, 20 + i).image!.data);
      const expected = await Promise.all(
        views.map((v) => main.run({ image: { data: v.slice(), dims: [1, 1, SIZE, SIZE] } })),
      );
      const burst = await Promise.all(
        views.map((v) => engine.infer({ task: 'chest', views: [v], priority: 'ROUTINE' })),
      );
      const lone = await engine.infer({ task: 'chest', views: [views[0]!], priority: 'ROUTINE' });
      for (const r of [...burst, lone]) sizes.push(r.timings.batchSize);
      // Ten requests in one tick: batches of 4 and 4 side by side, then the rest; the lone one alone.
      expect(sizes.slice(0, 8)).toEqual(Array(8).fill(4));
      expect(sizes.at(-1)).toBe(1);
      burst.forEach((r, i) =>
        expect(Array.from(r.outputs.logits!.data)).toEqual(
          Array.from(expected[i]!.logits!.data).map((v) => expect.closeTo(v, 4)),
        ),
      );
      expect(Array.from(lone.outputs.logits!.data)).toEqual(
        Array.from(expected[0]!.logits!.data).map((v) => expect.closeTo(v, 4)),
      );
    } finally {
      await engine.close();
    }
    expect(engine.health()).toEqual([]);
  });

  it('hands onnxruntime the spin setting (idle threads sleep unless asked to spin) with the same outputs', async () => {
    const create = jest.spyOn(ort.InferenceSession, 'create');
    const two = { executionProviders: ['cpu'], intraOpThreads: 2 };
    const loaded: ModelSession[] = [];
    try {
      const asOpened = async (
        options: typeof two & { spinWait?: boolean; stopSpinningAfterRun?: boolean },
      ) => {
        loaded.push(await new OnnxSessionFactory().load(MODEL, options));
        return (create.mock.calls.at(-1)![1] as ort.InferenceSession.SessionOptions).extra;
      };
      expect(await asOpened({ ...two, stopSpinningAfterRun: true })).toEqual({
        session: { intra_op: { allow_spinning: '0' } },
      });
      expect(await asOpened({ ...two, spinWait: true })).toEqual({
        session: { intra_op: { allow_spinning: '1' } },
      });
      expect(await asOpened({ ...two, spinWait: true, stopSpinningAfterRun: true })).toEqual({
        session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' },
      });
      const feeds = batch(2, 11);
      const expected = await main.run(copy(feeds));
      for (const session of loaded)
        expect(maxAbsDiff(expected, await session.run(copy(feeds)))).toBeLessThanOrEqual(1e-5);
    } finally {
      create.mockRestore();
      await Promise.all(loaded.map((s) => s.release()));
    }
  });
});

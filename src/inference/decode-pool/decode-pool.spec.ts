import { Worker } from 'node:worker_threads';
import { ImageError } from '../../errors';
import { DecodeFailedError, DecodePool, deserializeError, serializeError } from '.';

const LIMITS = { maxBytes: 1024, maxPixels: 1024 };

/** A worker that reports ready and then never answers, so jobs stay pending. */
const silentWorker = (): Worker =>
  new Worker(
    "const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ type: 'ready' }); parentPort.on('message', () => {});",
    { eval: true },
  );

/** A worker that exits as soon as it receives a job. */
const crashingWorker = (): Worker =>
  new Worker(
    "const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ type: 'ready' }); parentPort.on('message', () => process.exit(3));",
    { eval: true },
  );

describe('decode error transport', () => {
  it('rebuilds an ImageError with its class, code, status and details', () => {
    const original = ImageError.tooLarge(5000, 1000);
    const copy = deserializeError(structuredClone(serializeError(original)));
    expect(copy).toBeInstanceOf(ImageError);
    expect(copy).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      httpStatus: 413,
      details: { pixels: 5000, limit: 1000 },
      message: original.message,
    });
  });

  it('turns any other error into DECODE_FAILED keeping the original as the cause', () => {
    const copy = deserializeError(structuredClone(serializeError(new TypeError('boom'))));
    expect(copy).toBeInstanceOf(DecodeFailedError);
    expect(copy.code).toBe('DECODE_FAILED');
    expect((copy.cause as Error).message).toBe('boom');
  });
});

describe('DecodePool', () => {
  it('fails the jobs of a worker that exits with DECODE_WORKER_CRASHED and starts a replacement', async () => {
    const spawned: Worker[] = [];
    const pool = new DecodePool({
      limits: LIMITS,
      size: 1,
      spawn: () => {
        const w = spawned.length === 0 ? crashingWorker() : silentWorker();
        spawned.push(w);
        return w;
      },
    });
    try {
      await pool.ready();
      await expect(pool.decode(new Uint8Array([1, 2, 3]), 8)).rejects.toMatchObject({
        code: 'DECODE_WORKER_CRASHED',
        details: { exitCode: 3 },
      });
      expect(spawned).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });

  it('close() fails queued and running jobs with DECODE_POOL_CLOSED and refuses new ones; the caller keeps an unowned buffer', async () => {
    const pool = new DecodePool({ limits: LIMITS, size: 1, spawn: silentWorker });
    await pool.ready();
    const backing = new Uint8Array(16);
    const view = backing.subarray(4, 8);
    const running = pool.decode(view, 8).catch((e: unknown) => e);
    const queued = pool.decode(new Uint8Array(4), 8).catch((e: unknown) => e);
    expect(pool.queueDepth).toBe(1);
    expect(backing.byteLength).toBe(16);
    await pool.close();
    expect(await running).toMatchObject({ code: 'DECODE_POOL_CLOSED' });
    expect(await queued).toMatchObject({ code: 'DECODE_POOL_CLOSED' });
    await expect(pool.decode(new Uint8Array(4), 8)).rejects.toMatchObject({ code: 'DECODE_POOL_CLOSED' });
  });
});

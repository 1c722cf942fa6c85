/**
 * Decode once (issue 18): an upload's one decode in a worker also prepares the film's model input
 * under the contracts analyses asked for, and the analysis takes it from there instead of decoding the
 * file again; what it takes is bit-identical to decoding the file afresh. Real workers, real films.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { PREPROCESSING_SPEC } from '../../src/imaging';
import { DecodePool, spawnDecodeWorker, type DecodeJobMessage } from '../../src/inference/decode-pool';
import { InlineImagePreparer } from '../../src/inference/image-preparer';
import { fixtureFile, fixturePath } from '../support/shared-data';

const LIMITS = { maxBytes: 256 * 1024 * 1024, maxPixels: 50_000_000 };
const CHEST_DIR = 'chest/kermany/test/NORMAL';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('decode once: upload intake keeps the model input', () => {
  const jobs: string[] = [];
  let pool: DecodePool;
  let films: Buffer[];

  beforeAll(async () => {
    films = readdirSync(fixturePath(CHEST_DIR))
      .filter((f) => /\.jpe?g$/i.test(f))
      .sort()
      .slice(0, 3)
      .map((f) => fixtureFile(`${CHEST_DIR}/${f}`));
    pool = new DecodePool({
      limits: LIMITS,
      size: 1,
      spawn: (): Worker => {
        const w = spawnDecodeWorker();
        const post = w.postMessage.bind(w);
        w.postMessage = (m: DecodeJobMessage, transfer?: never) => {
          jobs.push(m.kind === 'inspect' ? `inspect+${m.contracts?.length ?? 0}` : 'prepare');
          post(m, transfer);
        };
        return w;
      },
    });
    await pool.ready();
  });
  afterAll(() => pool.close());

  it('prepares nothing ahead before an analysis asked for a contract', async () => {
    await pool.inspect(films[0]!, sha(films[0]!));
    expect(pool.prepared(sha(films[0]!), 224, PREPROCESSING_SPEC)).toBeUndefined();
    expect(jobs).toEqual(['inspect+0']);
  });

  it('once a contract was asked for, an upload decodes once and the analysis decodes no more', async () => {
    jobs.length = 0;
    await pool.prepare(films[0]!.slice(), 224, PREPROCESSING_SPEC, sha(films[0]!));
    const info = await pool.inspect(films[1]!, sha(films[1]!));
    expect(info).toMatchObject({ format: 'JPEG', width: expect.any(Number) });
    const held = pool.prepared(sha(films[1]!), 224, PREPROCESSING_SPEC);
    expect(held).toBeDefined();
    const again = await pool.prepare(films[1]!.slice(), 224, PREPROCESSING_SPEC, sha(films[1]!));
    expect(again).toBe(held);
    expect(jobs).toEqual(['prepare', 'inspect+1']);

    const fresh = await new InlineImagePreparer(LIMITS).prepare(films[1]!.slice(), 224, PREPROCESSING_SPEC);
    expect(bytesOf(held!.tensor).equals(bytesOf(fresh.tensor))).toBe(true);
    expect({ ...held, tensor: null }).toEqual({ ...fresh, tensor: null });
  });

  it('keeps nothing for an upload without its hash, or for another contract', async () => {
    await pool.inspect(films[2]!);
    expect(pool.prepared(sha(films[2]!), 224, PREPROCESSING_SPEC)).toBeUndefined();
    expect(pool.prepared(sha(films[1]!), 256, PREPROCESSING_SPEC)).toBeUndefined();
  });
});

/**
 * The decode pool on real files: worker threads (TypeScript sources via the @swc-node bootstrap)
 * decode a chest JPEG and a real DICOM radiograph to the same tensor as inline decoding; an
 * ImageError thrown in a worker arrives as the same ImageError; a killed worker is replaced.
 */
import { readdirSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { ImageError } from '../../src/errors/image-errors';
import { decodeAndPrepare, DecodePool, spawnDecodeWorker } from '../../src/inference/decode-pool';
import { InlineImagePreparer } from '../../src/inference/image-preparer';
import { fixtureFile, fixturePath } from '../support/shared-data';

const LIMITS = { maxBytes: 256 * 1024 * 1024, maxPixels: 50_000_000 };
const SIZE = 224;
const CHEST_DIR = 'chest/kermany/test/NORMAL';
const DICOM = 'dicom/real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm';
const J2K = 'dicom/real_radiographs/CR_chest_MONO1_j2k_lossy_RG1_J2KI.dcm';

/** Bit-exact comparison of two float arrays (the worker's arrays come from another realm than jest's). */
function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('DecodePool (real files, real workers)', () => {
  const spawned: Worker[] = [];
  let pool: DecodePool;
  let chestFiles: string[];

  beforeAll(async () => {
    chestFiles = readdirSync(fixturePath(CHEST_DIR))
      .filter((f) => /\.jpe?g$/i.test(f))
      .sort()
      .slice(0, 8);
    pool = new DecodePool({
      limits: LIMITS,
      size: 2,
      spawn: () => {
        const w = spawnDecodeWorker();
        spawned.push(w);
        return w;
      },
    });
    await pool.ready();
  });

  afterAll(() => pool.close());

  it('decodes a chest JPEG to the same tensor and metadata as inline decoding, transferring the input bytes', async () => {
    const bytes = new Uint8Array(fixtureFile(`${CHEST_DIR}/${chestFiles[0]}`));
    const inline = await decodeAndPrepare(bytes.slice(), SIZE, LIMITS);
    const pooled = await pool.decode(bytes, SIZE);
    expect(bytes.byteLength).toBe(0);
    expect(pooled.tensor).toHaveLength(SIZE * SIZE);
    expect(bytesOf(pooled.tensor).equals(bytesOf(inline.tensor))).toBe(true);
    expect(pooled.meta).toEqual(inline.meta);
    expect(pooled.meta).toMatchObject({ format: 'JPEG', bitsStored: 8, quality: null });
  });

  it('decodes real DICOM radiographs (uncompressed MONOCHROME1, JPEG 2000) with their metadata', async () => {
    const [plain, j2k] = await Promise.all([
      pool.decode(fixtureFile(DICOM), SIZE),
      pool.decode(fixtureFile(J2K), SIZE),
    ]);
    expect(plain.meta).toMatchObject({
      format: 'DICOM',
      width: 440,
      photometric: 'MONOCHROME1',
      quality: null,
    });
    expect(plain.meta.dicom?.transferSyntaxUid).toBe(plain.meta.transferSyntaxUid);
    expect(j2k.meta).toMatchObject({ format: 'DICOM', width: 1841, height: 1955 });
    expect(j2k.meta.pixelStats.max).toBeGreaterThan(j2k.meta.pixelStats.min);
    const inline = await decodeAndPrepare(fixtureFile(DICOM), SIZE, LIMITS);
    expect(bytesOf(plain.tensor).equals(bytesOf(inline.tensor))).toBe(true);
  });

  it('implements the ImagePreparer port with the same answer as InlineImagePreparer', async () => {
    const inline = await new InlineImagePreparer(LIMITS).prepare(fixtureFile(DICOM), SIZE);
    const pooled = await pool.prepare(fixtureFile(DICOM), SIZE);
    const { tensor: a, ...inlineRest } = inline;
    const { tensor: b, ...pooledRest } = pooled;
    expect(pooledRest).toEqual(inlineRest);
    expect(pooledRest).toMatchObject({ format: 'DICOM', modality: 'CR', quality: null });
    expect(bytesOf(b).equals(bytesOf(a))).toBe(true);
  });

  it('keeps every job of a concurrent burst, in order of the callers', async () => {
    const files = chestFiles.map((f) => fixtureFile(`${CHEST_DIR}/${f}`));
    const expected = await Promise.all(files.map((b) => decodeAndPrepare(b, SIZE, LIMITS)));
    const pooled = await Promise.all(files.map((b) => pool.decode(b, SIZE)));
    expect(pooled.map((p, i) => bytesOf(p.tensor).equals(bytesOf(expected[i]!.tensor)))).toEqual(
      files.map(() => true),
    );
  });

  it('delivers an ImageError thrown in a worker as the same ImageError (class, code, details)', async () => {
    const truncated = fixtureFile(`${CHEST_DIR}/${chestFiles[0]}`).subarray(0, 3000);
    const corrupt = await pool.decode(truncated, SIZE).catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(ImageError);
    expect(corrupt).toMatchObject({ code: 'CORRUPT_IMAGE', httpStatus: 422 });

    const tiny = new DecodePool({ limits: { maxBytes: LIMITS.maxBytes, maxPixels: 1000 }, size: 1 });
    try {
      const tooLarge = await tiny.decode(fixtureFile(DICOM), SIZE).catch((e: unknown) => e);
      expect(tooLarge).toBeInstanceOf(ImageError);
      expect(tooLarge).toMatchObject({ code: 'IMAGE_TOO_LARGE', httpStatus: 413, details: { limit: 1000 } });
      expect((tooLarge as ImageError).details.pixels).toBeGreaterThan(1000);
    } finally {
      await tiny.close();
    }

    const notAnImage = await pool
      .decode(Buffer.from('just some text, not a radiograph'), SIZE)
      .catch((e: unknown) => e);
    expect(notAnImage).toBeInstanceOf(ImageError);
    expect((notAnImage as ImageError).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('replaces a worker that dies mid-job and fails only that job with DECODE_WORKER_CRASHED', async () => {
    const before = spawned.length;
    const victim = pool.decode(fixtureFile(J2K), SIZE);
    void spawned[before - 2]!.terminate();
    await expect(victim).rejects.toMatchObject({ code: 'DECODE_WORKER_CRASHED' });
    expect(spawned.length).toBe(before + 1);
    const after = await Promise.all(
      chestFiles.slice(0, 4).map((f) => pool.decode(fixtureFile(`${CHEST_DIR}/${f}`), SIZE)),
    );
    expect(after).toHaveLength(4);
  });
});

/**
 * H2, decompression bombs. Regressions: a 777 KB deflated-syntax DICOM took the process from 1.3 to
 * 3.9 GB and blocked the event loop 5.6 s (inflation capped only at 4 × MAX_UPLOAD_BYTES, synchronous,
 * then copied); an RLE 7000² DICOM blocked it 1.3 s and four 95 KB 16-bit PNGs 2.6 s (uploads were
 * decoded on the main thread); STOW-RS inflated each part again and accepted 10,000 parts.
 *
 * MAX_UPLOAD_BYTES is 1 MiB here, so the old inflation cap was 4 MiB: the bombs below inflate past it.
 * The event-loop decoders (RLE, PNG/JPEG) are replaced in this test's module registry by ones that
 * throw: an upload decoded on the event loop fails, one decoded in the decode pool's workers (their
 * own module instances) succeeds.
 */
import { Role } from '../../src/domain/enums';
import { buildMultipartRelated } from '../../src/interop/multipart';
import type { TestApp } from '../support/test-app';
import { deflatedDicom, png16Zeros, rleDicom } from './hostile-files';
import { startLightApp } from './light-app';

jest.mock('../../src/imaging/codecs/rle.decoder', () => ({
  decodeRle: () => {
    throw new Error('RLE decoded on the event loop');
  },
}));
jest.mock('../../src/imaging/raster/raster.decoder', () => ({
  decodeRaster: () => {
    throw new Error('PNG/JPEG decoded on the event loop');
  },
}));

const MIB = 1024 * 1024;
let t: TestApp;
let tech: string;

beforeAll(async () => {
  t = await startLightApp({ MAX_UPLOAD_BYTES: String(MIB), STOW_MAX_INSTANCES: '4', DECODE_WORKERS: '2' });
  tech = await t.tokenFor(Role.TECHNICIAN);
});
afterAll(async () => t?.stop());

async function upload(bytes: Buffer, type: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${t.app.url}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tech}`, 'content-type': type },
    body: bytes,
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

async function stow(parts: Buffer[]) {
  const { body, contentType } = buildMultipartRelated(parts, 'application/dicom');
  const res = await fetch(`${t.app.url}/dicom-web/studies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tech}`, 'content-type': contentType },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('deflated DICOM is inflated within the pixel budget', () => {
  it('refuses a header claiming 400 million pixels with IMAGE_TOO_LARGE before inflating its pixels', async () => {
    // 20000 × 20000 claimed; the stream holds 16 MiB of zeros (16 KB deflated), past the old 4 MiB cap.
    const bomb = await deflatedDicom({ rows: 20_000, columns: 20_000, pixelBytes: 16 * MIB });
    expect(bomb.bytes.length).toBeLessThan(64 * 1024);
    expect(await upload(bomb.bytes, 'application/dicom')).toEqual({ status: 413, code: 'IMAGE_TOO_LARGE' });
  });

  it('refuses a stream that inflates beyond what its header declares (3 MiB of pixel data for 64 × 64)', async () => {
    const bomb = await deflatedDicom({ rows: 64, columns: 64, pixelBytes: 3 * MIB });
    expect((await upload(bomb.bytes, 'application/dicom')).code).toBe('CORRUPT_IMAGE');
    // Control: the same file holding exactly the pixels it declares is accepted.
    const honest = await deflatedDicom({ rows: 64, columns: 64, pixelBytes: 64 * 64 });
    expect((await upload(honest.bytes, 'application/dicom')).status).toBe(201);
  });
});

describe('uploads are decoded in the decode pool, never on the event loop', () => {
  it('decodes an RLE 7000 × 7000 DICOM in a worker', async () => {
    const film = rleDicom(7000);
    expect(film.bytes.length).toBeLessThan(MIB);
    expect(await upload(film.bytes, 'application/dicom')).toEqual({ status: 201, code: undefined });
  });

  it('decodes four 7000 × 7000 16-bit PNGs sent at once in the workers (at most two at a time)', async () => {
    const png = await png16Zeros(7000);
    expect(png.length).toBeLessThan(150 * 1024);
    const answers = await Promise.all([0, 1, 2, 3].map(() => upload(png, 'image/png')));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201]);
  });
});

describe('STOW-RS', () => {
  it('refuses more instances than STOW_MAX_INSTANCES with 413 TOO_MANY_PARTS, storing nothing', async () => {
    const part = (await deflatedDicom({ rows: 8, columns: 8, pixelBytes: 64 })).bytes;
    const res = await stow([part, part, part, part, part]);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'TOO_MANY_PARTS', details: { limit: 4 } });
  });

  it('refuses a deflate bomb part with IMAGE_TOO_LARGE and still names its SOP instance', async () => {
    const bomb = await deflatedDicom({ rows: 20_000, columns: 20_000, pixelBytes: 16 * MIB });
    const res = await stow([bomb.bytes]);
    expect(res.status).toBe(409);
    const failed = res.body['00081198'].Value as Record<string, { Value: unknown[] }>[];
    expect(failed).toHaveLength(1);
    expect(failed[0]!['00081155']!.Value).toEqual([bomb.sopInstanceUid]);
    expect(failed[0]!['00081197']!.Value).toEqual([0xa700]);
    expect(failed[0]!['00000902']!.Value).toEqual(['IMAGE_TOO_LARGE']);
  });
});

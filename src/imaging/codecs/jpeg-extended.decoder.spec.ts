import sharp from 'sharp';
import { CodecError } from './codec-error';
import { decodeJpegExtended, readJpegFrameHeader } from './jpeg-extended.decoder';

describe('decodeJpegExtended', () => {
  it('decodes an 8-bit baseline grayscale JPEG like libjpeg (±2 grey levels)', async () => {
    const w = 37;
    const h = 21;
    const raw = Buffer.alloc(w * h);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + ((i / w) | 0) * 13) % 256;
    const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 90 })
      .toBuffer();
    const ref = await sharp(jpeg).toColourspace('b-w').raw().toBuffer();
    const img = decodeJpegExtended(jpeg);
    expect([img.width, img.height, img.precision]).toEqual([w, h, 8]);
    let max = 0;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(img.samples[i]! - ref[i]!));
    expect(max).toBeLessThanOrEqual(2);
  });

  it('reads the frame header without decoding', async () => {
    const jpeg = await sharp(Buffer.alloc(16 * 9), { raw: { width: 16, height: 9, channels: 1 } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    expect(readJpegFrameHeader(jpeg)).toMatchObject({ precision: 8, width: 16, height: 9, components: 1 });
    expect(readJpegFrameHeader(Uint8Array.from([1, 2, 3, 4]))).toBeNull();
  });

  it('throws CodecError for missing SOI, truncation and colour', async () => {
    expect(() => decodeJpegExtended(Uint8Array.from([0, 1, 2, 3]))).toThrow(CodecError);
    const grey = await sharp(Buffer.alloc(64 * 64, 128), { raw: { width: 64, height: 64, channels: 1 } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    expect(() => decodeJpegExtended(grey.subarray(0, grey.length - 40))).toThrow(CodecError);
    const colour = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .jpeg()
      .toBuffer();
    expect(() => decodeJpegExtended(colour)).toThrow(expect.objectContaining({ unsupported: true }));
  });
});

import { el, writePart10 } from './dicom/dicom-writer';
import { decodeImage } from './decode-image';

const LIMITS = { maxBytes: 1 << 20, maxPixels: 1 << 20 };

/** A 4×2 16-bit DICOM, explicit VR little endian, with the given samples and pixel attributes. */
function dicom16(
  samples: number[],
  attrs: { bitsStored: number; signed: boolean; slope?: string; intercept?: string },
) {
  const pixels = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => pixels.writeUInt16LE(v & 0xffff, i * 2));
  return writePart10([
    el(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    el(0x00080018, 'UI', '2.25.1'),
    el(0x00080060, 'CS', 'CR'),
    el(0x00280002, 'US', [1]),
    el(0x00280004, 'CS', 'MONOCHROME2'),
    el(0x00280010, 'US', [2]),
    el(0x00280011, 'US', [4]),
    el(0x00280100, 'US', [16]),
    el(0x00280101, 'US', [attrs.bitsStored]),
    el(0x00280102, 'US', [attrs.bitsStored - 1]),
    el(0x00280103, 'US', [attrs.signed ? 1 : 0]),
    el(0x00281052, 'DS', attrs.intercept ?? '0'),
    el(0x00281053, 'DS', attrs.slope ?? '1'),
    el(0x7fe00010, 'OB', pixels),
  ]);
}

describe('decodeImage, native 16-bit DICOM', () => {
  it('masks bits above Bits Stored and keeps values at identity rescale', async () => {
    // 0xf000 | 5: overlay bits above the 12 stored ones must not reach the pixel.
    const d = await decodeImage(
      dicom16([0, 1, 4095, 0xf005, 2048, 7, 8, 9], { bitsStored: 12, signed: false }),
      LIMITS,
    );
    expect(Array.from(d.pixels)).toEqual([0, 1, 4095, 5, 2048, 7, 8, 9]);
  });

  it('sign-extends signed samples and applies slope and intercept', async () => {
    const d = await decodeImage(
      dicom16([0x0fff, 0x0800, 0x07ff, 0, 1, 2, 3, 4], {
        bitsStored: 12,
        signed: true,
        slope: '2',
        intercept: '-1',
      }),
      LIMITS,
    );
    expect(Array.from(d.pixels)).toEqual([-3, -4097, 4093, -1, 1, 3, 5, 7]);
  });

  it('refuses pixels a rescale takes beyond float range (CORRUPT_IMAGE)', async () => {
    const file = dicom16([1, 2, 3, 4095, 5, 6, 7, 8], { bitsStored: 12, signed: false, slope: '1e38' });
    await expect(decodeImage(file, LIMITS)).rejects.toMatchObject({ code: 'CORRUPT_IMAGE' });
  });
});

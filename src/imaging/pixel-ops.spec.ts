import type { DecodedImage } from './image.types';
import { displayRange, displayWindow, pixelStats } from './pixel-ops';

const img = (over: Partial<DecodedImage>): DecodedImage => ({
  format: 'DICOM',
  width: 4,
  height: 1,
  bitsStored: 12,
  photometric: 'MONOCHROME2',
  pixels: new Float32Array([0, 1000, 2000, 4000]),
  invert: false,
  ...over,
});

describe('pixelStats', () => {
  it('reports min, max and mean', () => {
    expect(pixelStats(img({}))).toEqual({ min: 0, max: 4000, mean: 1750 });
  });
});

describe('displayRange', () => {
  it('uses min..max when the file has no window', () => {
    expect(Array.from(displayRange(img({})))).toEqual([0, 0.25, 0.5, 1]);
  });

  it('applies the DICOM linear VOI window and clips', () => {
    const d = displayRange(img({ voi: { center: 1000.5, width: 1001 } }));
    expect(displayWindow(img({ voi: { center: 1000.5, width: 1001 } }))).toEqual({ lower: 500, upper: 1500 });
    expect(Array.from(d)).toEqual([0, 0.5, 1, 1]);
  });

  it('inverts MONOCHROME1 so that 1 is white', () => {
    expect(Array.from(displayRange(img({ invert: true, photometric: 'MONOCHROME1' })))).toEqual([
      1, 0.75, 0.5, 0,
    ]);
  });

  it('scales PNG/JPEG by the bit depth, not by the content', () => {
    const png = img({ format: 'PNG', bitsStored: 16, pixels: new Float32Array([0, 65535, 32767.5, 0]) });
    expect(Array.from(displayRange(png))).toEqual([0, 1, 0.5, 0]);
    const jpg = img({ format: 'JPEG', bitsStored: 8, pixels: new Float32Array([0, 255, 51, 0]) });
    expect(displayRange(jpg)[2]).toBeCloseTo(0.2, 6);
  });

  it('handles a flat image', () => {
    expect(Array.from(displayRange(img({ pixels: new Float32Array(4).fill(7) })))).toEqual([0, 0, 0, 0]);
  });
});

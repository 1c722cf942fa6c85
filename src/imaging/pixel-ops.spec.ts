import type { DecodedImage } from './image.types';
import { displayRange, displayWindow, pixelStats, withDisplayRange } from './pixel-ops';

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

describe('withDisplayRange', () => {
  it("lends the same buffer film after film, holding each film's display range while it is used", () => {
    const a = img({});
    const b = img({ pixels: new Float32Array([4000, 0, 1000, 3000]) });
    const first = withDisplayRange(a, (d) => ({ buffer: d.buffer, values: Array.from(d) }));
    const second = withDisplayRange(b, (d) => ({ buffer: d.buffer, values: Array.from(d) }));
    expect(first.values).toEqual(Array.from(displayRange(a)));
    expect(second.values).toEqual(Array.from(displayRange(b)));
    expect(second.buffer).toBe(first.buffer);
  });

  it('gives a call made while the buffer is lent out an array of its own', () => {
    const a = img({});
    const b = img({ pixels: new Float32Array([4000, 0, 1000, 3000]) });
    withDisplayRange(a, (outer) => {
      const before = Array.from(outer);
      const inner = withDisplayRange(b, (d) => {
        expect(d.buffer).not.toBe(outer.buffer);
        return Array.from(d);
      });
      expect(inner).toEqual(Array.from(displayRange(b)));
      expect(Array.from(outer)).toEqual(before); // not overwritten by the nested film
    });
  });

  it('does not keep a buffer for a film above 1,048,576 pixels', () => {
    const big = img({ width: 1025, height: 1024, pixels: new Float32Array(1025 * 1024).fill(7) });
    const buffers = [0, 1].map(() => withDisplayRange(big, (d) => d.buffer));
    expect(buffers[0]).not.toBe(buffers[1]);
  });

  it('refuses an output array of the wrong length', () => {
    expect(() => displayRange(img({}), new Float32Array(3))).toThrow(RangeError);
  });
});

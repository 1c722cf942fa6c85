import type { DecodedImage } from '../image.types';
import {
  equalizeHistogram,
  instanceNormalize,
  intensityHistogram,
  modelInputOf,
  PREPROCESSING_SPEC,
  PREPROCESSING_SPEC_V2,
  resizeBilinear,
  toDisplayGray,
  toModelTensor,
} from './model-preprocessing';

function gray(
  width: number,
  height: number,
  f: (x: number, y: number) => number,
): { width: number; height: number; data: Float32Array } {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
}

/** resizeBilinear as plain loops over Pillow's triangle taps (horizontal pass, then vertical), for comparison. */
const referenceResize = (img: { width: number; height: number; data: Float32Array }, size: number) => {
  const taps = (inSize: number) =>
    Array.from({ length: size }, (_, i) => {
      const scale = inSize / size;
      const support = Math.max(scale, 1);
      const center = (i + 0.5) * scale;
      const lo = Math.max(Math.floor(center - support + 0.5), 0);
      const hi = Math.min(Math.floor(center + support + 0.5), inSize);
      const n = Math.min(hi - lo, Math.ceil(support) * 2 + 1);
      const w = Array.from({ length: n }, (_, k) =>
        Math.max(0, 1 - Math.abs((lo + k - center + 0.5) / support)),
      );
      const total = w.reduce((a, b) => a + b, 0);
      return { lo, w: w.map((x) => (total > 0 ? x / total : 0)) };
    });
  const h = taps(img.width);
  const v = taps(img.height);
  const tmp = new Float64Array(size * img.height);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < size; x++) {
      let acc = 0;
      h[x]!.w.forEach((w, k) => (acc += img.data[y * img.width + h[x]!.lo + k]! * w));
      tmp[y * size + x] = acc;
    }
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let acc = 0;
      v[y]!.w.forEach((w, k) => (acc += tmp[(v[y]!.lo + k) * size + x]! * w));
      out[y * size + x] = acc;
    }
  return out;
};

describe('gray-fill-bilinear-instnorm-v1', () => {
  it('names the contract', () => {
    expect(PREPROCESSING_SPEC).toBe('gray-fill-bilinear-instnorm-v1');
  });

  it('keeps float precision (no 8- or 16-bit quantisation)', () => {
    const r = resizeBilinear(
      gray(100, 80, () => 0.123456789),
      32,
    );
    for (const v of r.data) expect(Math.abs(v - 0.123456789)).toBeLessThan(1e-7);
  });

  it('is the identity at the same size', () => {
    const img = gray(7, 7, (x, y) => (x * 7 + y) / 48);
    expect(Array.from(resizeBilinear(img, 7).data)).toEqual(Array.from(img.data));
  });

  it('upsamples like half-pixel bilinear with edge clamping', () => {
    const r = resizeBilinear(
      gray(4, 4, (x) => x / 3),
      8,
    );
    const expected = [0, 1 / 12, 3 / 12, 5 / 12, 7 / 12, 9 / 12, 11 / 12, 1];
    expected.forEach((e, i) => expect(r.data[i]).toBeCloseTo(e, 6));
  });

  it('antialiases when shrinking: a checkerboard averages to grey', () => {
    const r = resizeBilinear(
      gray(64, 64, (x, y) => (x + y) % 2),
      8,
    );
    for (const v of r.data) expect(Math.abs(v - 0.5)).toBeLessThan(0.01);
  });

  it('fills the square ignoring aspect ratio', () => {
    const r = resizeBilinear(
      gray(200, 50, (x) => (x < 100 ? 0 : 1)),
      10,
    );
    expect(r.width * r.height).toBe(100);
    expect(r.data[3]).toBeLessThan(0.01);
    expect(r.data[4]).toBeLessThan(0.5);
    expect(r.data[5]).toBeGreaterThan(0.5);
    expect(r.data[96]).toBeGreaterThan(0.99);
  });

  it('normalises to zero mean and unit population std', () => {
    const out = instanceNormalize(new Float32Array([1, 2, 3, 4]));
    const mean = out.reduce((a, b) => a + b, 0) / 4;
    const std = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    expect(mean).toBeCloseTo(0, 6);
    expect(std).toBeCloseTo(1, 6);
    expect(out[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 6);
  });

  it('maps a flat image to zeros instead of dividing by zero', () => {
    expect(Array.from(instanceNormalize(new Float32Array(9).fill(0.7)))).toEqual(new Array(9).fill(0));
  });

  it('runs display → resize → normalise, with MONOCHROME1 inverted first', async () => {
    const base: DecodedImage = {
      format: 'DICOM',
      width: 4,
      height: 4,
      bitsStored: 12,
      photometric: 'MONOCHROME2',
      pixels: new Float32Array(16).map((_, i) => (i < 8 ? 0 : 4095)),
      invert: false,
    };
    const mono2 = await toModelTensor(base, 2);
    const mono1 = await toModelTensor({ ...base, photometric: 'MONOCHROME1', invert: true }, 2);
    expect(mono2).toHaveLength(4);
    expect(mono2[0]).toBeLessThan(0);
    expect(mono2[3]).toBeGreaterThan(0);
    mono1.forEach((v, i) => expect(v).toBeCloseTo(-mono2[i]!, 6));
    expect(toDisplayGray(base).data[15]).toBe(1);
  });
});

describe('resizeBilinear', () => {
  it('sums the taps of every width in loop order, bit for bit (3 and 4 taps are written out)', () => {
    // 224 → 160 (3 and 4 taps), 300 → 100 (6–7 taps), 50 → 160 (upsampling: 2–3 taps)
    for (const [w, h, size] of [
      [224, 224, 160],
      [300, 90, 100],
      [50, 70, 160],
    ] as const) {
      const img = gray(w, h, (x, y) => ((x * 31 + y * 17) % 251) / 250);
      const ours = resizeBilinear(img, size).data;
      const expected = referenceResize(img, size);
      const differing = ours.filter((v, i) => !Object.is(v, expected[i])).length;
      expect({ size: [w, h, size], differing }).toEqual({ size: [w, h, size], differing: 0 });
    }
  });
});

describe('gray-fill-bilinear-histeq-instnorm-v2', () => {
  it('maps each value to the mid-point of its bin in the cumulative histogram', () => {
    // bins of 1/256: 0.0 → bin 0 (2 pixels), 0.5 → bin 128 (1), 0.999 → bin 255 (1); n = 4
    const out = equalizeHistogram(new Float32Array([0, 0, 0.5, 0.999]));
    expect(Array.from(out)).toEqual([0.25, 0.25, 0.625, 0.875].map((v) => Math.fround(v)));
  });

  it('ignores the tone curve: a monotone remap of the intensities gives the same input', async () => {
    const base = gray(40, 30, (x, y) => ((x * 7 + y * 13) % 97) / 96);
    const curved = { ...base, data: base.data.map((v) => Math.pow(v, 2.2) * 0.8 + 0.1) };
    const a = instanceNormalize(equalizeHistogram(base.data));
    const b = instanceNormalize(equalizeHistogram(curved.data));
    // bins may merge under the curve; the ranks (and so nearly the values) survive
    const meanAbs = (x: Float32Array, y: Float32Array) =>
      x.reduce((s, v, i) => s + Math.abs(v - y[i]!), 0) / x.length;
    const equalized = meanAbs(a, b);
    const plain = meanAbs(instanceNormalize(base.data), instanceNormalize(curved.data));
    expect(equalized).toBeLessThan(0.02);
    expect(plain).toBeGreaterThan(5 * equalized);
  });

  it('clamps out-of-range values and maps a constant image to 0.5', () => {
    expect(Array.from(equalizeHistogram(new Float32Array([-1, 2])))).toEqual([0.25, 0.75]);
    expect(Array.from(equalizeHistogram(new Float32Array(9).fill(0.3)))).toEqual(new Array(9).fill(0.5));
  });

  it('bins the resized intensities for drift, clamping values outside [0, 1] to the end bins', () => {
    const h = intensityHistogram(new Float32Array([-0.5, 0, 0.0624, 0.0625, 0.5, 0.9999, 1, 3]));
    expect(h.map((p) => p * 8)).toEqual([3, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3]);
  });

  it('is selected by the contract id in toModelTensor', async () => {
    const img: DecodedImage = {
      format: 'PNG',
      width: 8,
      height: 8,
      bitsStored: 8,
      photometric: 'MONOCHROME2',
      pixels: new Float32Array(64).map((_, i) => (i * i) % 256),
      invert: false,
    };
    const v1 = await toModelTensor(img, 8);
    const v2 = await toModelTensor(img, 8, PREPROCESSING_SPEC_V2);
    const expected = instanceNormalize(equalizeHistogram(resizeBilinear(toDisplayGray(img), 8).data));
    expect(Array.from(v2)).toEqual(Array.from(expected));
    expect(Array.from(v1)).not.toEqual(Array.from(v2));
  });
});

describe('modelInputOf: arrays reused from film to film', () => {
  const film = (w: number, h: number, seed: number): DecodedImage => ({
    format: 'PNG',
    width: w,
    height: h,
    bitsStored: 8,
    photometric: 'MONOCHROME2',
    pixels: new Float32Array(w * h).map((_, i) => (i * seed + ((i * i) % 97)) % 256),
    invert: false,
  });

  it('prepares a film the same after larger and smaller films as on its own, and hands out arrays of its own', () => {
    const small = film(60, 40, 7);
    const alone = modelInputOf(small, 32, PREPROCESSING_SPEC_V2);
    const big = modelInputOf(film(300, 200, 13), 64, PREPROCESSING_SPEC_V2);
    const again = modelInputOf(small, 32, PREPROCESSING_SPEC_V2);
    modelInputOf(film(20, 90, 3), 16, PREPROCESSING_SPEC_V2);
    expect(Array.from(again.tensor)).toEqual(Array.from(alone.tensor));
    expect(again.intensityHistogram).toEqual(alone.intensityHistogram);
    // What it returns is never a reused array: the earlier results are untouched.
    expect(Array.from(modelInputOf(small, 32, PREPROCESSING_SPEC_V2).tensor)).toEqual(
      Array.from(alone.tensor),
    );
    expect(big.tensor.length).toBe(64 * 64);
    expect(alone.tensor.buffer).not.toBe(again.tensor.buffer);
  });

  it('refuses an equalisation output of the wrong length', () => {
    expect(() => equalizeHistogram(new Float32Array(4), 256, new Float32Array(3))).toThrow(RangeError);
  });
});

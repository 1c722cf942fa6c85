import type { DecodedImage } from '../image.types';
import {
  equalizeHistogram,
  instanceNormalize,
  PREPROCESSING_SPEC_V3,
  PREPROCESSING_SPEC_V3_NOEQ,
  resizeBilinear,
  toDisplayGray,
  toModelInput,
  type GrayImage,
} from './model-preprocessing';
import { cropToTissue, profileQuantile, TISSUE_CROP, tissueCropBox } from './tissue-crop';

/** A deterministic speckle in [0, 1): textured like bone rather than a flat panel. */
const speckle = (x: number, y: number) => (((x * 7919 + y * 104729) % 1000) + 0.5) / 1000;

function film(width: number, height: number, f: (x: number, y: number) => number): GrayImage {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
}

/**
 * A forearm-like film: a bright vertical tube (brightest at its cortices, so its values spread over many
 * histogram bins) on a dark noisy background.
 */
function forearm(width = 368, height = 448, x0 = 150, x1 = 210) {
  return film(width, height, (x, y) =>
    x >= x0 && x < x1
      ? 0.5 + 0.4 * Math.abs((2 * (x - x0)) / (x1 - x0) - 1) + 0.05 * speckle(x, y) + (0.05 * y) / height
      : 0.1 + 0.1 * speckle(x, y),
  );
}

describe('tissue crop (contract gray-tissuecrop-…-v3)', () => {
  it('interpolates quantiles linearly, as the trainer does', () => {
    expect(profileQuantile([0, 10, 20, 30, 40], 0.5)).toBe(20);
    expect(profileQuantile([40, 0, 30, 10, 20], 0.1)).toBeCloseTo(4, 12);
    expect(profileQuantile([3], 0.9)).toBe(3);
  });

  it('cuts a forearm film to the bone with a margin, widened to half its height', () => {
    const box = tissueCropBox(forearm());
    // the bar spans x 150–210 of 368; the box holds it and is at least half as wide as tall
    expect(box.x0).toBeLessThanOrEqual(150);
    expect(box.x1).toBeGreaterThanOrEqual(210);
    expect(box.x1 - box.x0).toBeGreaterThanOrEqual(Math.ceil(TISSUE_CROP.minAspect * (box.y1 - box.y0)));
    expect(box.x1 - box.x0).toBeLessThan(300);
    expect([box.y0, box.y1]).toEqual([0, 448]);
    expect(box.transpose).toBe(false);
  });

  it('ignores a saturated band and a flat panel at the edge (one histogram bin each)', () => {
    const f = forearm(368, 448, 130, 230);
    const plain = tissueCropBox(f);
    expect(plain.x1 - plain.x0).toBeLessThan(300);
    const banded = film(368, 448, (x, y) => (y >= 420 ? 1 : x < 40 && y > 300 ? 0.8 : f.data[y * 368 + x]!));
    expect(tissueCropBox(banded)).toEqual(plain);
  });

  it('stands a horizontal forearm upright (transposed crop)', () => {
    const f = forearm();
    const h = film(448, 368, (x, y) => f.data[x * 368 + y]!);
    const { image, box } = cropToTissue(h);
    expect(box.transpose).toBe(true);
    expect(image.height).toBe(box.x1 - box.x0);
    expect(image.width).toBe(box.y1 - box.y0);
    // out[r][c] = in[y0 + c][x0 + r]
    expect(image.data[3 * image.width + 5]).toBe(h.data[(box.y0 + 5) * h.width + box.x0 + 3]);
  });

  it('keeps the whole film when nothing stands out', () => {
    const box = tissueCropBox(film(300, 200, () => 0.4));
    expect(box).toEqual({ x0: 0, y0: 0, x1: 300, y1: 200, transpose: true });
  });

  it('is the first step of v3: crop, resize, equalise (histeq id only), normalise', async () => {
    const f = forearm(92, 112, 38, 52);
    const img: DecodedImage = {
      format: 'PNG',
      width: f.width,
      height: f.height,
      bitsStored: 16,
      photometric: 'MONOCHROME2',
      pixels: f.data.map((v) => Math.round(v * 65535)),
      invert: false,
    };
    const gray = toDisplayGray(img);
    const crop = cropToTissue(gray);
    const resized = resizeBilinear(crop.image, 16);
    const v3 = await toModelInput(img, 16, PREPROCESSING_SPEC_V3);
    expect(Array.from(v3.tensor)).toEqual(Array.from(instanceNormalize(equalizeHistogram(resized.data))));
    expect(v3.cropBox).toEqual(crop.box);
    const noeq = await toModelInput(img, 16, PREPROCESSING_SPEC_V3_NOEQ);
    expect(Array.from(noeq.tensor)).toEqual(Array.from(instanceNormalize(resized.data)));
    expect((await toModelInput(img, 16)).cropBox).toBeUndefined();
  });
});

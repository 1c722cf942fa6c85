import sharp from 'sharp';
import type { GrayImage } from './preprocessing/model-preprocessing';

/** A class-activation map at the model's feature resolution. */
export interface ActivationGrid {
  width: number;
  height: number;
  data: Float32Array;
}

/** Jet-like colour map as a 256-entry RGB table: 0 → dark blue, 0.5 → green/yellow, 1 → red. */
const JET: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  const ramp = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    lut[i * 3] = ramp(1.5 - Math.abs(4 * x - 3));
    lut[i * 3 + 1] = ramp(1.5 - Math.abs(4 * x - 2));
    lut[i * 3 + 2] = ramp(1.5 - Math.abs(4 * x - 1));
  }
  return lut;
})();

/** Bilinear taps along one axis: for each output position, the two source indices and the weight of the second. */
function taps(source: number, size: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const w = new Float32Array(size);
  const scale = source / size;
  for (let o = 0; o < size; o++) {
    // Pixel centres aligned (as in common bilinear resizers), clamped at the borders.
    const x = Math.min(source - 1, Math.max(0, (o + 0.5) * scale - 0.5));
    const lo = Math.floor(x);
    i0[o] = lo;
    i1[o] = Math.min(source - 1, lo + 1);
    w[o] = x - lo;
  }
  return { i0, i1, w };
}

/**
 * Renders a class-activation map as a PNG overlay on the image the model saw (its input tensor,
 * rescaled to [0,1] for display), `size` pixels square: the image and the activation (ReLU, scaled to
 * its maximum) are both sampled bilinearly at the output resolution in one pass, blended through a
 * colour table, and the RGB pixels are PNG-encoded by sharp (fast settings). One pass at the output
 * size, with no resize step, keeps a 256² heatmap at a few milliseconds.
 */
export async function renderHeatmapPng(input: GrayImage, grid: ActivationGrid, size = 256): Promise<Buffer> {
  const { width, height, data } = input;
  if (data.length !== width * height) throw new RangeError('image size does not match its data');
  if (grid.data.length !== grid.width * grid.height)
    throw new RangeError('activation grid size does not match its data');
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const gain = 255 / (hi > lo ? hi - lo : 1);
  let max = 0;
  for (let i = 0; i < grid.data.length; i++) if (grid.data[i]! > max) max = grid.data[i]!;
  const heat = new Float32Array(grid.data.length);
  if (max > 0) for (let i = 0; i < heat.length; i++) heat[i] = Math.max(0, grid.data[i]!) / max;

  const gx = taps(width, size);
  const gy = taps(height, size);
  const hx = taps(grid.width, size);
  const hy = taps(grid.height, size);
  const rgb = Buffer.allocUnsafe(size * size * 3);
  let o = 0;
  for (let y = 0; y < size; y++) {
    const gr0 = gy.i0[y]! * width;
    const gr1 = gy.i1[y]! * width;
    const gwy = gy.w[y]!;
    const hr0 = hy.i0[y]! * grid.width;
    const hr1 = hy.i1[y]! * grid.width;
    const hwy = hy.w[y]!;
    for (let x = 0; x < size; x++) {
      const a0 = gx.i0[x]!;
      const a1 = gx.i1[x]!;
      const gwx = gx.w[x]!;
      const top = data[gr0 + a0]! + (data[gr0 + a1]! - data[gr0 + a0]!) * gwx;
      const bottom = data[gr1 + a0]! + (data[gr1 + a1]! - data[gr1 + a0]!) * gwx;
      const g = (top + (bottom - top) * gwy - lo) * gain;
      const b0 = hx.i0[x]!;
      const b1 = hx.i1[x]!;
      const hwx = hx.w[x]!;
      const htop = heat[hr0 + b0]! + (heat[hr0 + b1]! - heat[hr0 + b0]!) * hwx;
      const hbottom = heat[hr1 + b0]! + (heat[hr1 + b1]! - heat[hr1 + b0]!) * hwx;
      const h = Math.min(1, Math.max(0, htop + (hbottom - htop) * hwy));
      const alpha = 0.55 * h;
      const c = ((h * 255 + 0.5) | 0) * 3;
      rgb[o++] = g * (1 - alpha) + JET[c]! * alpha + 0.5;
      rgb[o++] = g * (1 - alpha) + JET[c + 1]! * alpha + 0.5;
      rgb[o++] = g * (1 - alpha) + JET[c + 2]! * alpha + 0.5;
    }
  }
  return sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

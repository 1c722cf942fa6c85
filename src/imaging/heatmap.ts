import sharp from 'sharp';
import { GrayImage, resizeBilinear } from './preprocessing/model-preprocessing';

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

/**
 * Renders a class-activation map as a PNG overlay on the image the model saw (its input tensor,
 * rescaled to [0,1] for display), `size` pixels square: the activation (ReLU, scaled to its maximum) is
 * upsampled bilinearly to the input's resolution, blended over it through a colour table, and the
 * result is scaled to `size` by sharp. Cost is dominated by PNG encoding, not by JavaScript loops.
 */
export async function renderHeatmapPng(input: GrayImage, grid: ActivationGrid, size = 256): Promise<Buffer> {
  const { width, height, data } = input;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  let max = 0;
  for (const v of grid.data) if (v > max) max = v;
  const scaled = Float32Array.from(grid.data, (v) => (max > 0 ? Math.max(0, v) / max : 0));
  const heat = resizeBilinear({ width: grid.width, height: grid.height, data: scaled }, width).data;
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const g = ((data[i] - lo) / span) * 255;
    const h = Math.min(1, Math.max(0, heat[i]));
    const alpha = 0.55 * h;
    const c = Math.round(h * 255) * 3;
    rgb[i * 3] = g * (1 - alpha) + JET[c] * alpha;
    rgb[i * 3 + 1] = g * (1 - alpha) + JET[c + 1] * alpha;
    rgb[i * 3 + 2] = g * (1 - alpha) + JET[c + 2] * alpha;
  }
  let image = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (size !== width || size !== height) image = image.resize(size, size, { fit: 'fill', kernel: 'linear' });
  return image.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
}

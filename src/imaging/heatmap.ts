import sharp from 'sharp';
import { GrayImage, resizeBilinear } from './preprocessing/model-preprocessing';

/** A class-activation map at the model's feature resolution. */
export interface ActivationGrid {
  width: number;
  height: number;
  data: Float32Array;
}

/** Jet-like colour map: 0 → dark blue, 0.5 → green/yellow, 1 → red. */
function colour(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v));
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 1)));
  return [r * 255, g * 255, b * 255];
}

/**
 * Renders a class-activation map as a PNG overlay on the image the model saw (its input tensor,
 * rescaled to [0,1] for display), `size` pixels square: the activation (ReLU, scaled to its maximum) is
 * upsampled bilinearly and blended over the image, so a reader sees what the model weighed.
 */
export async function renderHeatmapPng(input: GrayImage, grid: ActivationGrid, size = 384): Promise<Buffer> {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of input.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  const base = resizeBilinear(
    { ...input, data: Float32Array.from(input.data, (v) => (v - lo) / span) },
    size,
  ).data;
  const relu = Float32Array.from(grid.data, (v) => Math.max(0, v));
  const max = relu.reduce((m, v) => (v > m ? v : m), 0);
  const scaled = max > 0 ? Float32Array.from(relu, (v) => v / max) : relu;
  const heat = resizeBilinear({ width: grid.width, height: grid.height, data: scaled }, size).data;
  const rgb = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const g = base[i] * 255;
    const h = heat[i];
    const alpha = 0.55 * h;
    const [r, gg, b] = colour(h);
    rgb[i * 3] = Math.round(g * (1 - alpha) + r * alpha);
    rgb[i * 3 + 1] = Math.round(g * (1 - alpha) + gg * alpha);
    rgb[i * 3 + 2] = Math.round(g * (1 - alpha) + b * alpha);
  }
  return sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

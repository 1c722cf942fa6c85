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

/** How a heatmap is drawn. */
export interface HeatmapOptions {
  /** Long side of the film area, in pixels (default 256). */
  size?: number;
  /**
   * Width / height of the film the map belongs to: the model's square input is stretched back to it,
   * so the heatmap has the film's proportions (default 1).
   */
  aspect?: number;
  /** The finding the map shows, printed above it (e.g. PNEUMONIA); with it come the title band and the colour scale. */
  label?: string | null;
  /** True (default): the map blended over the film; false: the bare map over black. */
  overlay?: boolean;
}

/** 5 × 7 bitmap glyphs (rows top to bottom, 5 bits each): labels need no font installed on the server. */
const GLYPHS: Record<string, number[]> = {
  A: [0xe, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0xe, 0x11, 0x10, 0x10, 0x10, 0x11, 0xe],
  D: [0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
  F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0xe, 0x11, 0x10, 0x17, 0x11, 0x11, 0xf],
  H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0xe, 0x4, 0x4, 0x4, 0x4, 0x4, 0xe],
  J: [0x7, 0x2, 0x2, 0x2, 0x2, 0x12, 0xc],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
  L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11],
  N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0xe, 0x11, 0x11, 0x11, 0x11, 0x11, 0xe],
  P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0xe, 0x11, 0x11, 0x11, 0x15, 0x12, 0xd],
  R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0xf, 0x10, 0x10, 0xe, 0x1, 0x1, 0x1e],
  T: [0x1f, 0x4, 0x4, 0x4, 0x4, 0x4, 0x4],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0xe],
  V: [0x11, 0x11, 0x11, 0x11, 0x11, 0xa, 0x4],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0xa],
  X: [0x11, 0x11, 0xa, 0x4, 0xa, 0x11, 0x11],
  Y: [0x11, 0x11, 0xa, 0x4, 0x4, 0x4, 0x4],
  Z: [0x1f, 0x1, 0x2, 0x4, 0x8, 0x10, 0x1f],
  '0': [0xe, 0x11, 0x13, 0x15, 0x19, 0x11, 0xe],
  '1': [0x4, 0xc, 0x4, 0x4, 0x4, 0x4, 0xe],
  '2': [0xe, 0x11, 0x1, 0x2, 0x4, 0x8, 0x1f],
  '3': [0x1f, 0x2, 0x4, 0x2, 0x1, 0x11, 0xe],
  '4': [0x2, 0x6, 0xa, 0x12, 0x1f, 0x2, 0x2],
  '5': [0x1f, 0x10, 0x1e, 0x1, 0x1, 0x11, 0xe],
  '6': [0x6, 0x8, 0x10, 0x1e, 0x11, 0x11, 0xe],
  '7': [0x1f, 0x1, 0x2, 0x4, 0x8, 0x8, 0x8],
  '8': [0xe, 0x11, 0x11, 0xe, 0x11, 0x11, 0xe],
  '9': [0xe, 0x11, 0x11, 0xf, 0x1, 0x2, 0xc],
  ' ': [0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0],
  '-': [0x0, 0x0, 0x0, 0x1f, 0x0, 0x0, 0x0],
  _: [0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x1f],
  '.': [0x0, 0x0, 0x0, 0x0, 0x0, 0xc, 0xc],
  ':': [0x0, 0xc, 0xc, 0x0, 0xc, 0xc, 0x0],
  '%': [0x18, 0x19, 0x2, 0x4, 0x8, 0x13, 0x3],
  '/': [0x0, 0x1, 0x2, 0x4, 0x8, 0x10, 0x0],
  '(': [0x2, 0x4, 0x8, 0x8, 0x8, 0x4, 0x2],
  ')': [0x8, 0x4, 0x2, 0x2, 0x2, 0x4, 0x8],
};

/** Height of the title band and width of the colour-scale band, in pixels. */
const TITLE_BAND = 22;
const SCALE_BAND = 34;

/** Catmull-Rom taps along one axis: the four source indices and weights of each output position. */
function cubicTaps(source: number, size: number): { idx: Int32Array; w: Float32Array } {
  const idx = new Int32Array(size * 4);
  const w = new Float32Array(size * 4);
  const scale = source / size;
  for (let o = 0; o < size; o++) {
    const x = Math.min(source - 1, Math.max(0, (o + 0.5) * scale - 0.5));
    const base = Math.floor(x);
    const t = x - base;
    const t2 = t * t;
    const t3 = t2 * t;
    const ws = [
      -0.5 * t3 + t2 - 0.5 * t,
      1.5 * t3 - 2.5 * t2 + 1,
      -1.5 * t3 + 2 * t2 + 0.5 * t,
      0.5 * t3 - 0.5 * t2,
    ];
    for (let k = 0; k < 4; k++) {
      idx[o * 4 + k] = Math.min(source - 1, Math.max(0, base - 1 + k));
      w[o * 4 + k] = ws[k]!;
    }
  }
  return { idx, w };
}

/** Draws `text` (upper-cased; unknown characters as spaces) at (x, y) with `scale`-pixel dots. */
function drawText(
  rgb: Buffer,
  stride: number,
  x0: number,
  y0: number,
  text: string,
  scale: number,
  colour: [number, number, number],
  maxX: number,
): void {
  let x = x0;
  for (const ch of text.toUpperCase()) {
    const glyph = GLYPHS[ch] ?? GLYPHS[' ']!;
    if (x + 5 * scale > maxX) break;
    for (let row = 0; row < 7; row++)
      for (let col = 0; col < 5; col++) {
        if (!((glyph[row]! >> (4 - col)) & 1)) continue;
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            const o = ((y0 + row * scale + dy) * stride + x + col * scale + dx) * 3;
            rgb[o] = colour[0];
            rgb[o + 1] = colour[1];
            rgb[o + 2] = colour[2];
          }
      }
    x += 6 * scale;
  }
}

/** The activation map after ReLU, scaled to its maximum (all zero when nothing is positive). */
function normalizedHeat(grid: ActivationGrid): Float32Array {
  let max = 0;
  for (let i = 0; i < grid.data.length; i++) if (grid.data[i]! > max) max = grid.data[i]!;
  const heat = new Float32Array(grid.data.length);
  if (max > 0) for (let i = 0; i < heat.length; i++) heat[i] = Math.max(0, grid.data[i]!) / max;
  return heat;
}

/** The title band naming the finding and the colour scale (high, red, at the top to low, blue, at the bottom). */
function drawLegend(
  rgb: Buffer,
  { outW, fw, fh, top }: { outW: number; fw: number; fh: number; top: number },
  label: string | null | undefined,
): void {
  const white: [number, number, number] = [240, 240, 240];
  drawText(rgb, outW, 6, 4, `${label ?? 'AI'} - AI heatmap`, 2, white, outW - 2);
  // Colour scale: high (red) at the top to low (blue) at the bottom, with its two words.
  const x0 = fw + 8;
  const y0 = top + 12;
  const y1 = top + fh - 12;
  for (let y = y0; y < y1; y++) {
    const level = 1 - (y - y0) / Math.max(1, y1 - y0 - 1);
    const c = ((level * 255 + 0.5) | 0) * 3;
    for (let x = x0; x < x0 + 10; x++) {
      const p = (y * outW + x) * 3;
      rgb[p] = JET[c]!;
      rgb[p + 1] = JET[c + 1]!;
      rgb[p + 2] = JET[c + 2]!;
    }
  }
  drawText(rgb, outW, fw + 4, top + 2, 'HI', 1, white, outW);
  drawText(rgb, outW, fw + 4, top + fh - 9, 'LO', 1, white, outW);
}

/**
 * Renders a class-activation map as a PNG a radiologist can read: the map (ReLU, scaled to its
 * maximum) upsampled smoothly (bicubic) to the film's proportions, blended over the film the model saw
 * (its input, rescaled to [0,1] for display) or bare; with a label, a title band naming the finding and
 * a colour scale (high at the top, low at the bottom). The film and the map are sampled at the output
 * resolution in one pass, and the RGB pixels are PNG-encoded by sharp (fast settings).
 * `options` as a number is the old square call: `size × size`, overlay, no bands.
 */
export async function renderHeatmapPng(
  input: GrayImage,
  grid: ActivationGrid,
  options: number | HeatmapOptions = {},
): Promise<Buffer> {
  const o: HeatmapOptions = typeof options === 'number' ? { size: options } : options;
  const size = o.size ?? 256;
  const aspect = o.aspect && Number.isFinite(o.aspect) && o.aspect > 0 ? o.aspect : 1;
  const overlay = o.overlay ?? true;
  const labelled = typeof options !== 'number' && o.label !== undefined;
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
  const heat = normalizedHeat(grid);

  // The film area keeps the film's proportions; the bands sit above and to the right of it.
  const fw = Math.max(1, Math.round(aspect >= 1 ? size : size * aspect));
  const fh = Math.max(1, Math.round(aspect >= 1 ? size / aspect : size));
  const top = labelled ? TITLE_BAND : 0;
  const outW = fw + (labelled ? SCALE_BAND : 0);
  const outH = fh + top;
  const rgb = Buffer.alloc(outW * outH * 3, labelled ? 17 : 0);

  const gx = taps(width, fw);
  const gy = taps(height, fh);
  const hx = cubicTaps(grid.width, fw);
  const hy = cubicTaps(grid.height, fh);
  const row = new Float32Array(grid.width);
  for (let y = 0; y < fh; y++) {
    const gr0 = gy.i0[y]! * width;
    const gr1 = gy.i1[y]! * width;
    const gwy = gy.w[y]!;
    // The map's row at this output height (bicubic along y), then bicubic along x per pixel.
    for (let c = 0; c < grid.width; c++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += heat[hy.idx[y * 4 + k]! * grid.width + c]! * hy.w[y * 4 + k]!;
      row[c] = v;
    }
    let out = (y + top) * outW * 3;
    for (let x = 0; x < fw; x++) {
      const a0 = gx.i0[x]!;
      const a1 = gx.i1[x]!;
      const gwx = gx.w[x]!;
      const t0 = data[gr0 + a0]! + (data[gr0 + a1]! - data[gr0 + a0]!) * gwx;
      const b0 = data[gr1 + a0]! + (data[gr1 + a1]! - data[gr1 + a0]!) * gwx;
      const g = overlay ? (t0 + (b0 - t0) * gwy - lo) * gain : 0;
      let v = 0;
      for (let k = 0; k < 4; k++) v += row[hx.idx[x * 4 + k]!]! * hx.w[x * 4 + k]!;
      const h = Math.min(1, Math.max(0, v));
      const alpha = overlay ? 0.55 * h : 1;
      const c = ((h * 255 + 0.5) | 0) * 3;
      rgb[out++] = g * (1 - alpha) + JET[c]! * alpha + 0.5;
      rgb[out++] = g * (1 - alpha) + JET[c + 1]! * alpha + 0.5;
      rgb[out++] = g * (1 - alpha) + JET[c + 2]! * alpha + 0.5;
    }
  }

  if (labelled) drawLegend(rgb, { outW, fw, fh, top }, o.label);
  return sharp(rgb, { raw: { width: outW, height: outH, channels: 3 } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

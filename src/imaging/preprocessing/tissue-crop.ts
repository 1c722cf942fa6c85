import type { GrayImage } from './model-preprocessing';
import { EQUALIZE_BINS, resizeBilinear } from './model-preprocessing';

/**
 * Constants of the tissue crop (contract `gray-tissuecrop-…-v3`). The Python trainer's `data.TissueCrop`
 * holds the same numbers and model.json repeats them; a model whose numbers differ is refused at load.
 */
export const TISSUE_CROP = {
  /** Side of the thumbnail (bilinear, aspect ignored) on which the box is found. */
  grid: 64,
  /** Bright cells: equalised value ≥ rank (the brightest 15%). */
  rank: 0.85,
  /** …in a histogram bin holding at most this share of the thumbnail (flat panels, bands, collimation). */
  flatBinFraction: 0.02,
  /** Thumbnail cells along each edge that are ignored (bands, labels, cassette edges). */
  edgeCells: 5,
  /** Quantile of a row/column profile taken as background. */
  baseQuantile: 0.1,
  /** Quantile of a row/column profile taken as tissue (not the maximum: one bright band must not set it). */
  topQuantile: 0.9,
  /** Rows/columns whose bright count exceeds base + keep · (top − base) are kept. */
  keep: 0.15,
  marginCells: 3,
  /** At least 40% of each side. */
  minCells: 26,
  /** The box's short side is at least this share of its long side (limits the stretch to a square). */
  minAspect: 0.5,
} as const;

/** A crop box in source pixels (end exclusive); `transpose` when it is wider than tall. */
export interface TissueBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  transpose: boolean;
}

/** Linear-interpolation quantile (the trainer's `profile_quantile`, same float operations). */
export function profileQuantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Kept span [lo, hi) of one axis profile, in thumbnail cells. */
function axisSpan(counts: Int32Array): [number, number] {
  const c = TISSUE_CROP;
  const g = c.grid;
  const base = profileQuantile(counts, c.baseQuantile);
  const top = profileQuantile(counts, c.topQuantile);
  if (!(top > base)) return [0, g];
  const cut = base + c.keep * (top - base);
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < g; i++) {
    if (counts[i]! > cut) {
      if (lo < 0) lo = i;
      hi = i + 1;
    }
  }
  if (lo < 0) return [0, g];
  if (lo <= c.edgeCells + 1) lo = 0;
  if (hi >= g - c.edgeCells - 1) hi = g;
  lo = Math.max(0, lo - c.marginCells);
  hi = Math.min(g, hi + c.marginCells);
  if (hi - lo < c.minCells) {
    lo = Math.min(Math.max(Math.floor((lo + hi - c.minCells) / 2), 0), g - c.minCells);
    hi = lo + c.minCells;
  }
  return [lo, hi];
}

/** Grows [a0, a1) to `need` pixels around its centre, shifted back inside [0, limit). */
function widen(a0: number, a1: number, need: number, limit: number): [number, number] {
  if (need >= limit) return [0, limit];
  a0 -= Math.floor((need - (a1 - a0)) / 2);
  a1 = a0 + need;
  if (a0 < 0) {
    a1 -= a0;
    a0 = 0;
  }
  if (a1 > limit) {
    a0 -= a1 - limit;
    a1 = limit;
  }
  return [a0, a1];
}

/**
 * The tissue box of a film: on a 64×64 thumbnail, the bright cells (equalised rank ≥ 0.85, in a histogram
 * bin that is not flat, away from the edges) are counted per column and per row; the columns and rows above
 * base + 0.15 (top − base) of their profile are kept with a margin, a side near an edge runs to it, each
 * side spans at least 40% of the film, and the short side is widened to half the long one. Flat panels,
 * bright bands and collimation fall in one histogram bin and are ignored; bone is spread over many.
 */
export function tissueCropBox(img: GrayImage): TissueBox {
  const c = TISSUE_CROP;
  const g = c.grid;
  const thumb = resizeBilinear(img, g).data;
  const n = thumb.length;
  const idx = new Uint16Array(n);
  const counts = new Float64Array(EQUALIZE_BINS);
  for (let i = 0; i < n; i++) {
    const v = Math.min(1, Math.max(0, thumb[i]!));
    const b = Math.min(EQUALIZE_BINS - 1, Math.floor(v * EQUALIZE_BINS));
    idx[i] = b;
    counts[b]!++;
  }
  const lut = new Float64Array(EQUALIZE_BINS);
  let below = 0;
  for (let b = 0; b < EQUALIZE_BINS; b++) {
    lut[b] = (below + counts[b]! / 2) / n;
    below += counts[b]!;
  }
  const cols = new Int32Array(g);
  const rows = new Int32Array(g);
  const e = c.edgeCells;
  for (let y = e; y < g - e; y++) {
    for (let x = e; x < g - e; x++) {
      const b = idx[y * g + x]!;
      if (lut[b]! >= c.rank && counts[b]! <= c.flatBinFraction * n) {
        cols[x]!++;
        rows[y]!++;
      }
    }
  }
  const [cx0, cx1] = axisSpan(cols);
  const [cy0, cy1] = axisSpan(rows);
  const { width: W, height: H } = img;
  let x0 = Math.floor((cx0 * W) / g);
  let x1 = Math.ceil((cx1 * W) / g);
  let y0 = Math.floor((cy0 * H) / g);
  let y1 = Math.ceil((cy1 * H) / g);
  const bw = x1 - x0;
  const bh = y1 - y0;
  if (bw < c.minAspect * bh) [x0, x1] = widen(x0, x1, Math.ceil(c.minAspect * bh), W);
  else if (bh < c.minAspect * bw) [y0, y1] = widen(y0, y1, Math.ceil(c.minAspect * bw), H);
  return { x0, y0, x1, y1, transpose: x1 - x0 > y1 - y0 };
}

/** Cuts the film to its tissue box, transposed when the box is wider than tall (long bones stand upright). */
export function cropToTissue(img: GrayImage): { image: GrayImage; box: TissueBox } {
  const box = tissueCropBox(img);
  const bw = box.x1 - box.x0;
  const bh = box.y1 - box.y0;
  const out = new Float32Array(bw * bh);
  if (box.transpose) {
    for (let r = 0; r < bw; r++)
      for (let c = 0; c < bh; c++) out[r * bh + c] = img.data[(box.y0 + c) * img.width + box.x0 + r]!;
    return { image: { width: bh, height: bw, data: out }, box };
  }
  for (let y = 0; y < bh; y++)
    out.set(img.data.subarray((box.y0 + y) * img.width + box.x0, (box.y0 + y) * img.width + box.x1), y * bw);
  return { image: { width: bw, height: bh, data: out }, box };
}

import type { DecodedImage } from './image.types';

/** Minimum, maximum and mean of the decoded (modality) values. */
export function pixelStats(img: DecodedImage): { min: number; max: number; mean: number } {
  const p = img.pixels;
  if (p.length === 0) return { min: 0, max: 0, mean: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / p.length };
}

/** The value range mapped to [0, 1] by {@link displayRange}: `[lower, upper]`. */
export function displayWindow(img: DecodedImage): { lower: number; upper: number } {
  if (img.format !== 'DICOM') return { lower: 0, upper: 2 ** img.bitsStored - 1 };
  if (img.voi) {
    // DICOM PS3.3 C.11.2.1.2.1 linear window: [c − 0.5 − (w−1)/2, c − 0.5 + (w−1)/2].
    const { center, width } = img.voi;
    const half = Math.max(width - 1, 0) / 2;
    return { lower: center - 0.5 - half, upper: center - 0.5 + half };
  }
  const { min, max } = pixelStats(img);
  return { lower: min, upper: max };
}

/**
 * Maps decoded values to display intensities in [0, 1]: DICOM through the file's VOI window (else
 * its min..max), PNG/JPEG as value / (2^bits − 1); MONOCHROME1 is inverted so that 1 is always white.
 */
export function displayRange(img: DecodedImage): Float32Array {
  const { lower, upper } = displayWindow(img);
  const span = upper - lower;
  const out = new Float32Array(img.pixels.length);
  const p = img.pixels;
  for (let i = 0; i < p.length; i++) {
    let v = span > 0 ? (p[i]! - lower) / span : p[i]! > lower ? 1 : 0;
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    out[i] = img.invert ? 1 - v : v;
  }
  return out;
}

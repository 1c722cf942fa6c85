import type { DecodedImage } from './image.types';
import { scratchF32 } from './scratch';

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
export function displayRange(
  img: DecodedImage,
  out: Float32Array = new Float32Array(img.pixels.length),
): Float32Array {
  if (out.length !== img.pixels.length) throw new RangeError('out must hold one value per pixel');
  const { lower, upper } = displayWindow(img);
  const span = upper - lower;
  const p = img.pixels;
  for (let i = 0; i < p.length; i++) {
    let v = span > 0 ? (p[i]! - lower) / span : p[i]! > lower ? 1 : 0;
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    out[i] = img.invert ? 1 - v : v;
  }
  return out;
}

let displayLent = false;

/**
 * Calls `use` with the film's {@link displayRange}, held in a buffer this thread reuses from film to film
 * (`scratch.ts`; above its size limit a film gets an array of its own). The array is valid only while
 * `use` runs, which must not keep it or hand it out; a call made while it is lent out gets an array of
 * its own.
 */
export function withDisplayRange<T>(img: DecodedImage, use: (display: Float32Array) => T): T {
  if (displayLent) return use(displayRange(img));
  displayLent = true;
  try {
    return use(displayRange(img, scratchF32('display', img.pixels.length)));
  } finally {
    displayLent = false;
  }
}

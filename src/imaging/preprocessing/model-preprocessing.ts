import sharp from 'sharp';
import type { DecodedImage } from '../image.types';
import { displayRange } from '../pixel-ops';

/**
 * Name of the model input contract. The Python trainer implements the same three steps; change the
 * name whenever a step changes so a model is never fed inputs it was not trained on.
 */
export const PREPROCESSING_SPEC = 'gray-fill-bilinear-instnorm-v1';

/** A single-channel float image, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Step 1: display intensities in [0, 1] (VOI window or range, MONOCHROME1 inverted). */
export function toDisplayGray(img: DecodedImage): GrayImage {
  return { width: img.width, height: img.height, data: displayRange(img) };
}

/**
 * Step 2: resize to size×size ignoring aspect ratio, bilinear with antialiasing (libvips `reduce`
 * with the linear kernel, which widens the kernel when shrinking). Runs on float samples end to
 * end: no 8-bit quantisation.
 */
export async function resizeBilinear(img: GrayImage, size: number): Promise<GrayImage> {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError('size must be a positive integer');
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 1 }, limitInputPixels: false })
    .resize(size, size, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false })
    .raw({ depth: 'float' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 1) throw new RangeError('unexpected resize output');
  const out = new Float32Array(size * size);
  out.set(new Float32Array(data.buffer, data.byteOffset, size * size));
  return { width: size, height: size, data: out };
}

/** Step 3: instance normalisation x = (x − mean) / max(std, 1e-6), population std. */
export function instanceNormalize(data: Float32Array): Float32Array {
  const n = data.length;
  if (n === 0) return new Float32Array(0);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += data[i]!;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i]! - mean;
    sq += d * d;
  }
  const std = Math.max(Math.sqrt(sq / n), 1e-6);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (data[i]! - mean) / std;
  return out;
}

/** The full {@link PREPROCESSING_SPEC} pipeline: a size×size float tensor (NCHW with N=C=1, flattened). */
export async function toModelTensor(img: DecodedImage, size: number): Promise<Float32Array> {
  const resized = await resizeBilinear(toDisplayGray(img), size);
  return instanceNormalize(resized.data);
}

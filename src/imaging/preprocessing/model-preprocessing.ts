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

/** Per-output-sample filter taps along one axis: first input index and normalised weights. */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  maxTaps: number;
}

/**
 * Triangle (bilinear) filter taps with antialiasing, as in Pillow's `ImagingResample` and
 * `torch.nn.functional.interpolate(mode='bilinear', antialias=True, align_corners=False)`: when
 * shrinking, the filter support widens by the scale factor so every input sample contributes.
 */
function bilinearTaps(inSize: number, outSize: number): AxisTaps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const xmin = Math.max(Math.floor(center - support + 0.5), 0);
    const xmax = Math.min(Math.floor(center + support + 0.5), inSize);
    let total = 0;
    const n = Math.min(xmax - xmin, maxTaps);
    for (let k = 0; k < n; k++) {
      const w = Math.max(0, 1 - Math.abs((xmin + k - center + 0.5) / filterScale));
      weights[i * maxTaps + k] = w;
      total += w;
    }
    for (let k = 0; k < n; k++) weights[i * maxTaps + k] = total > 0 ? weights[i * maxTaps + k]! / total : 0;
    start[i] = xmin;
    count[i] = n;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Step 2: resize to size×size ignoring aspect ratio, bilinear with antialiasing, in float64
 * arithmetic end to end (horizontal pass, then vertical). Implemented here rather than with sharp
 * because sharp 0.34 casts one-band float raw input through its 16-bit grey interpretation, which
 * rounds [0, 1] intensities to 0 or 1. The Python trainer reproduces it with Pillow mode "F"
 * `resize(BILINEAR)` or torch `interpolate(..., antialias=True)`.
 */
export function resizeBilinear(img: GrayImage, size: number): GrayImage {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError('size must be a positive integer');
  if (img.width <= 0 || img.height <= 0 || img.data.length !== img.width * img.height)
    throw new RangeError('image size does not match its data');
  const { width, height, data } = img;
  const h = bilinearTaps(width, size);
  const v = bilinearTaps(height, size);
  const tmp = new Float64Array(size * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < size; x++) {
      let acc = 0;
      const s = h.start[x]!;
      const base = x * h.maxTaps;
      for (let k = 0; k < h.count[x]!; k++) acc += data[row + s + k]! * h.weights[base + k]!;
      tmp[y * size + x] = acc;
    }
  }
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const s = v.start[y]!;
    const base = y * v.maxTaps;
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let k = 0; k < v.count[y]!; k++) acc += tmp[(s + k) * size + x]! * v.weights[base + k]!;
      out[y * size + x] = acc;
    }
  }
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

/**
 * The full {@link PREPROCESSING_SPEC} pipeline: a size×size float tensor (NCHW with N=C=1, flattened).
 * Async so a later version may move the work off the event loop without changing callers.
 */
export async function toModelTensor(img: DecodedImage, size: number): Promise<Float32Array> {
  return (await toModelInput(img, size)).tensor;
}

/** Bins of {@link ModelInput.intensityHistogram}. */
export const INTENSITY_BINS = 16;

/** The model tensor plus what drift monitoring needs from the same pass. */
export interface ModelInput {
  tensor: Float32Array;
  /**
   * Proportions of the resized display intensities (after step 2, before normalisation) in
   * {@link INTENSITY_BINS} equal bins over [0, 1]: the image's brightness profile as the model sees it.
   */
  intensityHistogram: number[];
}

/** {@link toModelTensor} that also returns the display-intensity histogram of the resized image. */
export async function toModelInput(img: DecodedImage, size: number): Promise<ModelInput> {
  const resized = resizeBilinear(toDisplayGray(img), size);
  return { tensor: instanceNormalize(resized.data), intensityHistogram: intensityHistogram(resized.data) };
}

/** Proportions of values in [0, 1] over `bins` equal bins (values outside are clamped). */
export function intensityHistogram(data: Float32Array, bins = INTENSITY_BINS): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < data.length; i++) {
    const k = Math.min(bins - 1, Math.max(0, Math.floor(data[i]! * bins)));
    counts[k]!++;
  }
  return counts.map((c) => (data.length ? c / data.length : 0));
}

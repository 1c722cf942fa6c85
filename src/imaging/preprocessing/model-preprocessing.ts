import type { DecodedImage } from '../image.types';
import { displayRange } from '../pixel-ops';
import { scratchF32, scratchF64, scratchU16 } from '../scratch';
import { cropToTissue, type TissueBox } from './tissue-crop';

/**
 * Name of the model input contract. The Python trainer implements the same three steps; change the
 * name whenever a step changes so a model is never fed inputs it was not trained on.
 */
export const PREPROCESSING_SPEC = 'gray-fill-bilinear-instnorm-v1';

/**
 * The v2 contract (chest v2): v1 with histogram equalisation between resize and normalisation, which
 * takes out the tone curve a scanner or an uploader applied. The Python trainer's `data.equalize_np`.
 */
export const PREPROCESSING_SPEC_V2 = 'gray-fill-bilinear-histeq-instnorm-v2';

/**
 * The v3 contract (wrist v2): the film is cut to its tissue box (`tissue-crop.ts`; transposed when wider
 * than tall) before the v2 steps, so a forearm fills the model input instead of a fifth of it. The Python
 * trainer's `data.preprocess_v3`.
 */
export const PREPROCESSING_SPEC_V3 = 'gray-tissuecrop-bilinear-histeq-instnorm-v3';

/** {@link PREPROCESSING_SPEC_V3} without histogram equalisation (the crop, then v1's steps). */
export const PREPROCESSING_SPEC_V3_NOEQ = 'gray-tissuecrop-bilinear-instnorm-v3';

/** Every input contract this server can prepare; model.json names one. */
export const PREPROCESSING_SPECS = [
  PREPROCESSING_SPEC,
  PREPROCESSING_SPEC_V2,
  PREPROCESSING_SPEC_V3,
  PREPROCESSING_SPEC_V3_NOEQ,
] as const;
export type PreprocessingId = (typeof PREPROCESSING_SPECS)[number];

/** Contracts that equalise the histogram after resizing. */
const EQUALIZED: ReadonlySet<PreprocessingId> = new Set([PREPROCESSING_SPEC_V2, PREPROCESSING_SPEC_V3]);
/** Contracts that cut the film to its tissue box first. */
const TISSUE_CROPPED: ReadonlySet<PreprocessingId> = new Set([
  PREPROCESSING_SPEC_V3,
  PREPROCESSING_SPEC_V3_NOEQ,
]);

/** Bins of {@link equalizeHistogram}. */
export const EQUALIZE_BINS = 256;

/** A single-channel float image, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Step 1: display intensities in [0, 1] (VOI window or range, MONOCHROME1 inverted); `display`, when the
 * caller already holds `displayRange(img)`, is used as it is.
 */
export function toDisplayGray(img: DecodedImage, display?: Float32Array): GrayImage {
  return { width: img.width, height: img.height, data: display ?? displayRange(img) };
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
  const tmp = scratchF64('resizeRows', size * height);
  const { start: hStart, count: hCount, weights: hWeights, maxTaps: hMax } = h;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const to = y * size;
    for (let x = 0; x < size; x++) {
      const s = row + hStart[x]!;
      const b = x * hMax;
      const taps = hCount[x]!;
      // The common tap counts written out: the same products, added in the same order as the loop.
      if (taps === 3)
        tmp[to + x] =
          data[s]! * hWeights[b]! + data[s + 1]! * hWeights[b + 1]! + data[s + 2]! * hWeights[b + 2]!;
      else if (taps === 4)
        tmp[to + x] =
          data[s]! * hWeights[b]! +
          data[s + 1]! * hWeights[b + 1]! +
          data[s + 2]! * hWeights[b + 2]! +
          data[s + 3]! * hWeights[b + 3]!;
      else {
        let acc = 0;
        for (let k = 0; k < taps; k++) acc += data[s + k]! * hWeights[b + k]!;
        tmp[to + x] = acc;
      }
    }
  }
  // Vertical pass row by row: each output row sums its input rows in tap order (the same sums, in the
  // same order, as one output sample at a time), reading the rows straight through.
  const out = new Float32Array(size * size);
  const acc = scratchF64('resizeAccumulator', size);
  for (let y = 0; y < size; y++) {
    const s = v.start[y]!;
    const base = y * v.maxTaps;
    const taps = v.count[y]!;
    acc.fill(0);
    for (let k = 0; k < taps; k++) {
      const w = v.weights[base + k]!;
      const from = (s + k) * size;
      for (let x = 0; x < size; x++) acc[x] += tmp[from + x]! * w;
    }
    out.set(acc, y * size);
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
 * Histogram equalisation of [0, 1] values: each value becomes the mid-point of its bin's share of the
 * cumulative histogram, `(pixels in lower bins + pixels in its bin / 2) / pixels`, with
 * `bin(v) = min(bins − 1, floor(clamp(v, 0, 1) · bins))`. A constant image maps to 0.5.
 */
export function equalizeHistogram(
  data: Float32Array,
  bins = EQUALIZE_BINS,
  out: Float32Array = new Float32Array(data.length),
): Float32Array {
  const n = data.length;
  if (out.length !== n) throw new RangeError('out must hold one value per sample');
  if (n === 0) return out;
  const idx = scratchU16('equalizeBins', n);
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const x = data[i]!;
    // floor(clamp(x, 0, 1) · bins), capped at the last bin; a NaN (never a display value) counts in bin 0.
    const b = ((x < 0 ? 0 : x > 1 ? 1 : x) * bins) | 0;
    const bin = b < bins ? b : bins - 1;
    idx[i] = bin;
    counts[bin]!++;
  }
  const lut = new Float64Array(bins);
  let below = 0;
  for (let b = 0; b < bins; b++) {
    lut[b] = (below + counts[b]! / 2) / n;
    below += counts[b]!;
  }
  for (let i = 0; i < n; i++) out[i] = lut[idx[i]!]!;
  return out;
}

/**
 * The full pipeline of a preprocessing contract (default {@link PREPROCESSING_SPEC}): a size×size float
 * tensor (NCHW with N=C=1, flattened). Async so a later version may move the work off the event loop
 * without changing callers.
 */
export async function toModelTensor(
  img: DecodedImage,
  size: number,
  preprocessing: PreprocessingId = PREPROCESSING_SPEC,
): Promise<Float32Array> {
  return (await toModelInput(img, size, preprocessing)).tensor;
}

/** Bins of {@link ModelInput.intensityHistogram}. */
const INTENSITY_BINS = 16;

/** The model tensor plus what drift monitoring needs from the same pass. */
export interface ModelInput {
  tensor: Float32Array;
  /**
   * Proportions of the resized display intensities (after step 2, before normalisation) in
   * {@link INTENSITY_BINS} equal bins over [0, 1]: the image's brightness profile as the model sees it.
   */
  intensityHistogram: number[];
  /** The part of the film the tensor shows, for contracts that crop (v3); absent otherwise. */
  cropBox?: TissueBox;
}

/**
 * {@link toModelTensor} that also returns the display-intensity histogram of the resized image;
 * `display`: `displayRange(img)` when the caller already computed it.
 */
export async function toModelInput(
  img: DecodedImage,
  size: number,
  preprocessing: PreprocessingId = PREPROCESSING_SPEC,
  display?: Float32Array,
): Promise<ModelInput> {
  return modelInputOf(img, size, preprocessing, display);
}

/** {@link toModelInput}, synchronously (for a caller that lends it a buffer only while it runs). */
export function modelInputOf(
  img: DecodedImage,
  size: number,
  preprocessing: PreprocessingId = PREPROCESSING_SPEC,
  display?: Float32Array,
): ModelInput {
  const gray = toDisplayGray(img, display);
  const crop = TISSUE_CROPPED.has(preprocessing) ? cropToTissue(gray) : null;
  const resized = resizeBilinear(crop ? crop.image : gray, size);
  const n = resized.data.length;
  // The equalised film only feeds the normalisation, which writes the tensor into an array of its own.
  const toned = EQUALIZED.has(preprocessing)
    ? equalizeHistogram(resized.data, EQUALIZE_BINS, scratchF32('equalized', n))
    : resized.data;
  return {
    tensor: instanceNormalize(toned),
    intensityHistogram: intensityHistogram(resized.data),
    ...(crop ? { cropBox: crop.box } : {}),
  };
}

/** Proportions of values in [0, 1] over `bins` equal bins (values outside are clamped). */
export function intensityHistogram(data: Float32Array, bins = INTENSITY_BINS): number[] {
  const counts = new Float64Array(bins);
  for (let i = 0; i < data.length; i++) {
    // min(bins − 1, max(0, floor(x · bins))); a NaN counts in bin 0.
    const k = data[i]! * bins;
    counts[k >= bins ? bins - 1 : k > 0 ? k | 0 : 0]!++;
  }
  return Array.from(counts, (c) => (data.length ? c / data.length : 0));
}

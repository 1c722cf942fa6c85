import { AppError, ErrorDetails, ImageError, ImageErrorCode } from '../../errors';
import {
  decodeImage,
  DecodedImageInfo,
  DicomAttributes,
  ImageFormat,
  ImageLimits,
  PREPROCESSING_SPEC,
  PreprocessingId,
} from '../../imaging';
import { GateVerdict } from '../gate-verdict';
import { prepareImage } from '../image-preparer';

/** What the decode pool reports about an image besides its tensor. Holds no PHI (no DICOM identifiers). */
export interface ImageMeta {
  format: ImageFormat;
  width: number;
  height: number;
  bitsStored: number;
  photometric: string;
  transferSyntaxUid?: string;
  /** Min, max and mean of the decoded (modality) values. */
  pixelStats: { min: number; max: number; mean: number };
  /** Display-intensity histogram of the resized image (drift monitoring). */
  intensityHistogram: number[];
  /** The pre-model check's verdict (radiograph-reader's `qualityVerdict`): LOW_QUALITY, NOT_A_RADIOGRAPH (colour) or null. */
  quality: GateVerdict | null;
  /** DICOM attributes needed to interpret or audit the pixels (no identifiers), for DICOM files. */
  dicom?: DicomAttributes;
}

/** A decoded, preprocessed image: the model input tensor (`size × size`, flattened) and its metadata. */
export interface DecodedTensor {
  tensor: Float32Array;
  meta: ImageMeta;
}

/**
 * decodeImage → {@link prepareImage} (quality check, model input), in whichever thread calls it (the
 * pool's workers, or inline where no pool is wanted). Throws only {@link ImageError}.
 */
export async function decodeAndPrepare(
  bytes: Uint8Array,
  size: number,
  limits: ImageLimits,
  preprocessing: PreprocessingId = PREPROCESSING_SPEC,
): Promise<DecodedTensor> {
  return tensorOf(await decodeImage(bytes, limits), size, preprocessing);
}

/**
 * Upload intake: one decode of the file answers its description and the model inputs of `contracts`
 * (what analyses asked for lately), so the film is not decoded again when it is analysed.
 */
export async function inspectAndPrepare(
  bytes: Uint8Array,
  limits: ImageLimits,
  contracts: readonly { size: number; preprocessing: PreprocessingId }[],
): Promise<{ info: DecodedImageInfo; prepared: DecodedTensor[] }> {
  const img = await decodeImage(bytes, limits);
  const prepared: DecodedTensor[] = [];
  for (const c of contracts) prepared.push(await tensorOf(img, c.size, c.preprocessing));
  const { pixels: _pixels, ...info } = img;
  return { info, prepared };
}

async function tensorOf(
  img: Awaited<ReturnType<typeof decodeImage>>,
  size: number,
  preprocessing: PreprocessingId,
): Promise<DecodedTensor> {
  const prepared = await prepareImage(img, size, preprocessing);
  return {
    tensor: prepared.tensor,
    meta: {
      format: img.format,
      width: prepared.width,
      height: prepared.height,
      bitsStored: prepared.bitsStored,
      photometric: img.photometric,
      transferSyntaxUid: img.transferSyntaxUid,
      pixelStats: prepared.stats,
      intensityHistogram: prepared.intensityHistogram,
      quality: prepared.quality,
      dicom: img.dicom,
    },
  };
}

/** A decode worker died (crash, out of memory, terminated) while holding this job. */
export class DecodeWorkerCrashedError extends AppError {
  readonly code = 'DECODE_WORKER_CRASHED' as const;
  override readonly httpStatus = 503;
}

/** A decode worker failed with an unexpected (non-image) error; the original message is kept for the log. */
export class DecodeFailedError extends AppError {
  readonly code = 'DECODE_FAILED' as const;
  override readonly httpStatus = 500;
}

/** The pool was closed before this job finished. */
export class DecodePoolClosedError extends AppError {
  readonly code = 'DECODE_POOL_CLOSED' as const;
  override readonly httpStatus = 503;
}

/** An error as it crosses the thread boundary (structured clone keeps no class). */
export type SerializedError =
  | { kind: 'ImageError'; code: ImageErrorCode; message: string; details: ErrorDetails }
  | { kind: 'Error'; name: string; message: string; stack?: string };

/** Flattens an error thrown in a worker for postMessage. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof ImageError)
    return { kind: 'ImageError', code: error.code, message: error.message, details: { ...error.details } };
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'Error', name: e.name, message: e.message, stack: e.stack };
}

/** Rebuilds an error in the main thread: an ImageError keeps its class, code and details. */
export function deserializeError(s: SerializedError): AppError {
  if (s.kind === 'ImageError') return new ImageError(s.code, s.message, s.details);
  const cause = Object.assign(new Error(s.message), { name: s.name, stack: s.stack });
  return new DecodeFailedError('The image could not be decoded (internal error)', {}, { cause });
}

/** Main thread → worker. */
export interface DecodeJobMessage {
  /** `inspect`: decode in full and answer the description only (upload intake); default `prepare`. */
  kind?: 'prepare' | 'inspect';
  /** `inspect`: the model inputs to prepare from the same decode. */
  contracts?: { size: number; preprocessing: PreprocessingId }[];
  id: number;
  bytes: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  size: number;
  preprocessing: PreprocessingId;
  limits: ImageLimits;
}

/** Worker → main thread. */
export type DecodeWorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; id: number; result: DecodedTensor }
  | { type: 'inspected'; id: number; info: DecodedImageInfo; prepared?: DecodedTensor[] }
  | { type: 'failed'; id: number; error: SerializedError };

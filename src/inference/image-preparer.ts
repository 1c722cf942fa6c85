import { GateVerdict } from '../domain/enums';
import {
  decodeImage,
  DecodedImageInfo,
  ImageLimits,
  inspectImage,
  pixelStats,
  PREPROCESSING_SPEC,
  PreprocessingId,
  toModelInput,
} from '../imaging';
import { qualityVerdict } from './radiograph-reader';

/** What the models need from one stored file. */
export interface PreparedImage {
  /** Model input under the manifest's preprocessing, `size × size`. */
  tensor: Float32Array;
  size: number;
  preprocessing: PreprocessingId;
  /** LOW_QUALITY when the image is blank, uniform or tiny; null otherwise. */
  quality: GateVerdict | null;
  width: number;
  height: number;
  format: string;
  modality: string | null;
  bodyPartExamined: string | null;
  stats: { min: number; max: number; mean: number };
  /** Significant bits per sample in the file. */
  bitsStored: number;
  /** Display-intensity histogram of the resized image (drift monitoring). */
  intensityHistogram: number[];
}

/**
 * Port: decode a file completely to validate it and describe it, without keeping its pixels (upload
 * intake). The decode pool runs it off the event loop, at most as many at once as it has workers.
 */
export interface ImageInspector {
  inspect(bytes: Uint8Array): Promise<DecodedImageInfo>;
}

/** Port: decode a file and prepare its model input (inline, or in worker threads). */
export interface ImagePreparer extends ImageInspector {
  /** Decodes `bytes` and prepares the model input of a `size × size` model under `preprocessing`. */
  prepare(bytes: Uint8Array, size: number, preprocessing?: PreprocessingId): Promise<PreparedImage>;
  close(): Promise<void>;
}

/** Prepares on the calling thread; the decode pool implements the same port off the event loop. */
export class InlineImagePreparer implements ImagePreparer {
  constructor(private readonly limits: ImageLimits) {}

  /** Decodes on the event loop: for CLIs and DECODE_WORKERS=0 only. */
  inspect(bytes: Uint8Array): Promise<DecodedImageInfo> {
    return inspectImage(bytes, this.limits);
  }

  async prepare(
    bytes: Uint8Array,
    size: number,
    preprocessing: PreprocessingId = PREPROCESSING_SPEC,
  ): Promise<PreparedImage> {
    const img = await decodeImage(bytes, this.limits);
    const input = await toModelInput(img, size, preprocessing);
    return {
      tensor: input.tensor,
      size,
      preprocessing,
      quality: qualityVerdict(img),
      width: img.width,
      height: img.height,
      format: img.format,
      modality: img.dicom?.modality ?? null,
      bodyPartExamined: img.dicom?.bodyPartExamined ?? null,
      stats: pixelStats(img),
      bitsStored: img.bitsStored,
      intensityHistogram: input.intensityHistogram,
    };
  }

  async close(): Promise<void> {}
}

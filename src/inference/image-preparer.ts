import { GateVerdict } from './gate-verdict';
import {
  decodeImage,
  DecodedImage,
  DecodedImageInfo,
  ImageLimits,
  inspectImage,
  modelInputOf,
  pixelStats,
  PREPROCESSING_SPEC,
  PreprocessingId,
  withDisplayRange,
} from '../imaging';
import { PreparedCache } from './prepared-cache';
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
  /**
   * With the file's `contentSha256`, the same decode also prepares the model inputs of the contracts
   * analyses asked for lately and keeps them, so analysing the film does not decode it again.
   */
  inspect(bytes: Uint8Array, contentSha256?: string): Promise<DecodedImageInfo>;
}

/** Port: decode a file and prepare its model input (inline, or in worker threads). */
export interface ImagePreparer extends ImageInspector {
  /** Decodes `bytes` and prepares the model input of a `size × size` model under `preprocessing`. */
  prepare(
    bytes: Uint8Array,
    size: number,
    preprocessing?: PreprocessingId,
    contentSha256?: string,
  ): Promise<PreparedImage>;
  /**
   * The model input already prepared for this content under this contract (at upload, or by an earlier
   * analysis), without decoding; undefined when none is held. Callers only read it.
   */
  prepared?(contentSha256: string, size: number, preprocessing: PreprocessingId): PreparedImage | undefined;
  close(): Promise<void>;
}

/**
 * Decoded pixels → quality check → model input of one contract, with what the analysis reads beside it:
 * the one pipeline both the inline preparer and the decode pool's workers run.
 */
export async function prepareImage(
  img: DecodedImage,
  size: number,
  preprocessing: PreprocessingId,
): Promise<PreparedImage> {
  // One display pass serves the model input and the quality check, in a buffer this thread reuses.
  const { input, quality } = withDisplayRange(img, (display) => ({
    input: modelInputOf(img, size, preprocessing, display),
    quality: qualityVerdict(img, display),
  }));
  return {
    tensor: input.tensor,
    size,
    preprocessing,
    quality,
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

/** Prepares on the calling thread; the decode pool implements the same port off the event loop. */
export class InlineImagePreparer implements ImagePreparer {
  constructor(
    private readonly limits: ImageLimits,
    private readonly cache = new PreparedCache(),
  ) {}

  /** Decodes on the event loop: for CLIs and DECODE_WORKERS=0 only. */
  async inspect(bytes: Uint8Array, contentSha256?: string): Promise<DecodedImageInfo> {
    if (!contentSha256 || this.cache.contracts.length === 0) return inspectImage(bytes, this.limits);
    const { pixels: _pixels, ...info } = await this.decodeAndKeep(bytes, contentSha256);
    return info;
  }

  prepared(contentSha256: string, size: number, preprocessing: PreprocessingId): PreparedImage | undefined {
    return this.cache.get(contentSha256, { size, preprocessing });
  }

  async prepare(
    bytes: Uint8Array,
    size: number,
    preprocessing: PreprocessingId = PREPROCESSING_SPEC,
    contentSha256?: string,
  ): Promise<PreparedImage> {
    return this.cache.getOrPrepare(contentSha256, { size, preprocessing }, async () =>
      prepareImage(await decodeImage(bytes, this.limits), size, preprocessing),
    );
  }

  private async decodeAndKeep(bytes: Uint8Array, contentSha256: string): Promise<DecodedImage> {
    const img = await decodeImage(bytes, this.limits);
    for (const c of this.cache.contracts)
      this.cache.set(contentSha256, await prepareImage(img, c.size, c.preprocessing));
    return img;
  }

  async close(): Promise<void> {}
}

import { AppError, ErrorDetails } from './app-error';

/**
 * Why an uploaded file cannot be read as a radiograph. Each reason is its own stable code so a
 * front-end can tell the technician what to do (re-export, choose another series, split frames...).
 */
export type ImageErrorCode =
  | 'EMPTY_UPLOAD'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNSUPPORTED_IMAGE'
  | 'CORRUPT_IMAGE'
  | 'UNSUPPORTED_TRANSFER_SYNTAX'
  | 'NOT_AN_IMAGE'
  | 'MULTI_FRAME_NOT_SUPPORTED'
  | 'IMAGE_TOO_LARGE'
  | 'UPLOAD_TOO_LARGE';

/** An upload or stored file could not be decoded into a single grayscale radiograph. */
export class ImageError extends AppError {
  override readonly httpStatus: number;
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, details, options);
    this.httpStatus =
      code === 'UPLOAD_TOO_LARGE' || code === 'IMAGE_TOO_LARGE'
        ? 413
        : code === 'UNSUPPORTED_MEDIA_TYPE'
          ? 415
          : 422;
  }

  static empty(): ImageError {
    return new ImageError('EMPTY_UPLOAD', 'The upload is empty');
  }
  static corrupt(reason: string, cause?: unknown): ImageError {
    return new ImageError('CORRUPT_IMAGE', `The file is truncated or corrupt: ${reason}`, {}, { cause });
  }
  static transferSyntax(uid: string, cause?: unknown): ImageError {
    return new ImageError(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      'The DICOM transfer syntax is not supported',
      { transferSyntaxUid: uid },
      { cause },
    );
  }
  static notAnImage(sopClassUid: string | undefined, modality: string | undefined): ImageError {
    return new ImageError(
      'NOT_AN_IMAGE',
      'The DICOM object holds no image (e.g. a structured report or RT object)',
      {
        sopClassUid: sopClassUid ?? null,
        modality: modality ?? null,
      },
    );
  }
  static multiFrame(frames: number): ImageError {
    return new ImageError(
      'MULTI_FRAME_NOT_SUPPORTED',
      'Multi-frame images are not supported; send one frame per image',
      { frames },
    );
  }
  static tooLarge(pixels: number, limit: number): ImageError {
    return new ImageError('IMAGE_TOO_LARGE', 'The image has more pixels than allowed', { pixels, limit });
  }
  static uploadTooLarge(bytes: number, limit: number): ImageError {
    return new ImageError('UPLOAD_TOO_LARGE', 'The upload is larger than allowed', { bytes, limit });
  }
  static unsupportedMediaType(): ImageError {
    return new ImageError('UNSUPPORTED_MEDIA_TYPE', 'The file is not a PNG, JPEG or DICOM image');
  }
  static unsupported(reason: string, details: ErrorDetails = {}): ImageError {
    return new ImageError('UNSUPPORTED_IMAGE', `Unsupported image: ${reason}`, details);
  }
}

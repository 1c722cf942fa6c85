/**
 * Raised by the in-house codecs (RLE, 12-bit JPEG) for malformed streams; the DICOM decoder turns it
 * into `ImageError` `CORRUPT_IMAGE` (or `UNSUPPORTED_IMAGE` when `unsupported` is set).
 */
export class CodecError extends Error {
  constructor(
    message: string,
    readonly unsupported = false,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

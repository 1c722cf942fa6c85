import { ImageError } from '../errors/image-errors';
import { detectFormat } from './detect-format';
import { decodeDicom } from './dicom/dicom.decoder';
import type { DecodedImage, DecodedImageInfo, ImageLimits } from './image.types';
import { decodeRaster } from './raster/raster.decoder';

/**
 * Decodes an upload (PNG, JPEG or DICOM) into one grayscale {@link DecodedImage}. Checks, in order:
 * empty (`EMPTY_UPLOAD`), size (`UPLOAD_TOO_LARGE`), magic bytes (`UNSUPPORTED_MEDIA_TYPE`), then the
 * format's own header (pixel limit, frames, syntax) before decompressing. Throws only
 * {@link ImageError}; never returns a partial image. Holds no state besides the codec singletons,
 * so it can run inside a worker thread unchanged.
 */
export async function decodeImage(buf: Uint8Array, limits: ImageLimits): Promise<DecodedImage> {
  if (buf.length === 0) throw ImageError.empty();
  if (buf.length > limits.maxBytes) throw ImageError.uploadTooLarge(buf.length, limits.maxBytes);
  const format = detectFormat(buf);
  if (!format) throw ImageError.unsupportedMediaType();
  try {
    const image =
      format === 'DICOM' ? await decodeDicom(buf, limits) : await decodeRaster(buf, format, limits);
    assertComplete(image);
    return image;
  } catch (e) {
    if (e instanceof ImageError) throw e;
    if (e instanceof RangeError) throw ImageError.corrupt(e.message, e);
    throw ImageError.corrupt(e instanceof Error ? e.message : 'the file cannot be decoded', e);
  }
}

/**
 * Every pixel decoded. Finite values are the decoders' own guarantee (integer samples; a DICOM rescale
 * that could leave float range is checked where it is applied), so they are not scanned again here.
 */
function assertComplete(image: DecodedImage): void {
  if (image.pixels.length !== image.width * image.height)
    throw ImageError.corrupt('decoded pixel count differs from the size');
}

/**
 * Decodes a file in full ({@link decodeImage}: every check, every pixel) and describes it without its
 * pixels: how intake validates an upload it stores as it came.
 */
export async function inspectImage(buf: Uint8Array, limits: ImageLimits): Promise<DecodedImageInfo> {
  const { pixels: _pixels, ...info } = await decodeImage(buf, limits);
  return info;
}

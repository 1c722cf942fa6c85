import sharp from 'sharp';
import { ImageError } from '../errors/image-errors';
import { decodeImage } from './decode-image';
import { detectFormat } from './detect-format';
import { deidentifyDicom, DeidentifyOptions } from './dicom/deidentify';
import type { ImageLimits } from './image.types';
import { displayRange } from './pixel-ops';

/** A de-identified copy of an uploaded radiograph. */
export interface DeidentifiedImage {
  bytes: Buffer;
  /** DICOM stays DICOM (Basic Profile); PNG and JPEG become a PNG with no metadata at all. */
  format: 'DICOM' | 'PNG';
  extension: 'dcm' | 'png';
  contentType: 'application/dicom' | 'image/png';
  /** DICOM tags removed (`ggggeeee`), empty for PNG. */
  removed: string[];
}

/**
 * De-identifies an image for the retraining area. DICOM: PS3.15 Basic Profile rewrite
 * ({@link deidentifyDicom}). PNG/JPEG: decoded and re-encoded from pixels only, so no EXIF, XMP,
 * ICC, text chunk or comment of the source survives; 8-bit sources give an 8-bit grayscale PNG,
 * deeper ones a 16-bit grayscale PNG with the stored values.
 */
export async function deidentifyImage(
  buf: Uint8Array,
  options: DeidentifyOptions,
  limits: ImageLimits,
): Promise<DeidentifiedImage> {
  const format = detectFormat(buf);
  if (!format) throw ImageError.unsupportedMediaType();
  if (format === 'DICOM') {
    const d = await deidentifyDicom(buf, options, limits.maxPixels);
    return {
      bytes: d.bytes,
      format: 'DICOM',
      extension: 'dcm',
      contentType: 'application/dicom',
      removed: d.removed,
    };
  }
  const img = await decodeImage(buf, limits);
  const sixteen = img.bitsStored > 8;
  const samples = sixteen ? new Uint16Array(img.pixels.length) : new Uint8Array(img.pixels.length);
  const max = sixteen ? 65535 : 255;
  for (let i = 0; i < img.pixels.length; i++)
    samples[i] = Math.max(0, Math.min(max, Math.round(img.pixels[i]!)));
  return {
    bytes: await grayPng(samples, img.width, img.height, sixteen),
    format: 'PNG',
    extension: 'png',
    contentType: 'image/png',
    removed: [],
  };
}

/**
 * The training copy of a (de-identified) image: display intensities in [0, 1] (VOI window, MONOCHROME1
 * inverted: the server's preprocessing step 1) as a 16-bit grayscale PNG, which the Python trainer
 * reads with the same scale. Used when a retraining dataset is assembled.
 */
export async function renderTrainingPng(buf: Uint8Array, limits: ImageLimits): Promise<Buffer> {
  const img = await decodeImage(buf, limits);
  const gray = displayRange(img);
  const samples = new Uint16Array(gray.length);
  for (let i = 0; i < gray.length; i++) samples[i] = Math.round(Math.max(0, Math.min(1, gray[i]!)) * 65535);
  return grayPng(samples, img.width, img.height, true);
}

async function grayPng(
  samples: Uint8Array | Uint16Array,
  width: number,
  height: number,
  sixteen: boolean,
): Promise<Buffer> {
  const raw = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  return sharp(raw, { raw: { width, height, channels: 1, ...(sixteen ? { depth: 'ushort' as const } : {}) } })
    .toColourspace(sixteen ? 'grey16' : 'b-w')
    .png({ compressionLevel: 6 })
    .toBuffer();
}

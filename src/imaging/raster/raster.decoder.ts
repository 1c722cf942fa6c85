import sharp from 'sharp';
import { ImageError } from '../../errors/image-errors';
import { CodecError } from '../codecs/codec-error';
import { decodeJpegExtended, readJpegFrameHeader } from '../codecs/jpeg-extended.decoder';
import type { DecodedImage, ImageFormat, ImageLimits } from '../image.types';

/**
 * Decodes PNG or JPEG with sharp into one luminance channel. 16-bit PNGs keep 16 bits (sharp is asked
 * for `grey16`); colour files are reduced to luminance by libvips' colourspace conversion and report
 * `photometric: 'RGB'`. EXIF orientation is not applied: pixels stay in stored order.
 * The pixel limit is checked from the header first and passed to sharp as `limitInputPixels`, so a
 * decompression bomb is refused before decoding. 12-bit JPEG, which libvips cannot read, goes to
 * the in-house sequential decoder (grayscale only) and keeps its 12 bits.
 */
export async function decodeRaster(
  buf: Uint8Array,
  format: Exclude<ImageFormat, 'DICOM'>,
  limits: ImageLimits,
): Promise<DecodedImage> {
  if (format === 'JPEG') {
    const sof = readJpegFrameHeader(buf);
    if (sof && sof.precision === 12) return decodeJpeg12(buf, sof.width * sof.height, limits);
  }
  const options: sharp.SharpOptions = {
    limitInputPixels: limits.maxPixels,
    failOn: 'warning',
    sequentialRead: true,
  };
  let meta: sharp.Metadata;
  try {
    // Header only: no pixel limit here, so an oversized image is reported as IMAGE_TOO_LARGE below.
    meta = await sharp(buf, { ...options, limitInputPixels: false }).metadata();
  } catch (e) {
    throw ImageError.corrupt(`the ${kind(buf)} header cannot be read`, e);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width <= 0 || height <= 0) throw ImageError.corrupt('image has no size');
  if (width * height > limits.maxPixels) throw ImageError.tooLarge(width * height, limits.maxPixels);
  if ((meta.pages ?? 1) > 1) throw ImageError.multiFrame(meta.pages ?? 1);
  const sixteen = meta.depth === 'ushort';
  const channels = meta.channels ?? 1;
  const colour = channels >= 3;
  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    ({ data, info } = await sharp(buf, options)
      .removeAlpha()
      .toColourspace(sixteen ? 'grey16' : 'b-w')
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true }));
  } catch (e) {
    const message = e instanceof Error ? e.message : '';
    if (/pixel limit/i.test(message)) throw ImageError.tooLarge(width * height, limits.maxPixels);
    // The library's own words ("VipsJpeg: Premature end of JPEG file") stay in the cause, for the log.
    throw ImageError.corrupt(`the ${kind(buf)} pixel data ends early or is damaged`, e);
  }
  if (info.width !== width || info.height !== height)
    throw ImageError.corrupt('decoded size differs from the header');
  const count = width * height;
  const stride = info.channels;
  const pixels = new Float32Array(count);
  if (sixteen) {
    const samples = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    for (let i = 0; i < count; i++) pixels[i] = samples[i * stride]!;
  } else {
    for (let i = 0; i < count; i++) pixels[i] = data[i * stride]!;
  }
  return {
    format,
    width,
    height,
    bitsStored: sixteen ? 16 : 8,
    photometric: colour ? 'RGB' : 'MONOCHROME2',
    pixels,
    invert: false,
    ...(colour ? { chroma: await chromaOf(buf, options) } : {}),
  };
}

/** Mean |R−G| + |G−B| (8-bit units) of the image resized to 64×64: how far from grey a colour file is. */
async function chromaOf(buf: Uint8Array, options: sharp.SharpOptions): Promise<number> {
  const { data, info } = await sharp(buf, options)
    .removeAlpha()
    .resize(64, 64, { fit: 'fill', kernel: 'linear' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = data[i * info.channels]!;
    const g = data[i * info.channels + 1]!;
    const b = data[i * info.channels + 2]!;
    sum += Math.abs(r - g) + Math.abs(g - b);
  }
  return n ? sum / n : 0;
}

function decodeJpeg12(buf: Uint8Array, pixels: number, limits: ImageLimits): DecodedImage {
  if (pixels > limits.maxPixels) throw ImageError.tooLarge(pixels, limits.maxPixels);
  try {
    const img = decodeJpegExtended(buf);
    return {
      format: 'JPEG',
      width: img.width,
      height: img.height,
      bitsStored: 12,
      photometric: 'MONOCHROME2',
      pixels: Float32Array.from(img.samples),
      invert: false,
    };
  } catch (e) {
    if (e instanceof CodecError && e.unsupported) throw ImageError.unsupported(e.message);
    throw ImageError.corrupt(e instanceof Error ? e.message : 'the 12-bit JPEG cannot be decoded', e);
  }
}

/** PNG or JPEG, by magic bytes, for messages in the product's words. */
function kind(buf: Uint8Array): string {
  return buf[0] === 0x89 && buf[1] === 0x50 ? 'PNG' : buf[0] === 0xff && buf[1] === 0xd8 ? 'JPEG' : 'image';
}

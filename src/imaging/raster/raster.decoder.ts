import sharp from 'sharp';
import { ImageError } from '../../errors/image-errors';
import { CodecError } from '../codecs/codec-error';
import { decodeJpegExtended, readJpegFrameHeader } from '../codecs/jpeg-extended.decoder';
import { decodePlainPng } from '../codecs/png.decoder';
import { decodeJpeg8 } from '../codecs/wasm-codecs';
import type { DecodedImage, ImageFormat, ImageLimits } from '../image.types';

/**
 * Decodes PNG or JPEG with sharp into one luminance channel. 16-bit PNGs keep 16 bits; colour files
 * are reduced to luminance (libvips' sRGB `b-w`) and report `photometric: 'RGB'` and their chroma.
 * EXIF orientation is not applied: pixels stay in stored order. The common files (8-bit Huffman JPEG,
 * grey or colour; 8-bit PNG, 16-bit grey PNG) are decoded once as stored (in this thread up to
 * {@link IN_THREAD_MAX_PIXELS}, else by one sharp call): the header is read here and luminance and
 * chroma are computed from the samples. Anything else takes libvips' header read, colourspace
 * conversion and chroma resize, three calls.
 * The pixel limit is checked from the header first and passed to sharp as `limitInputPixels`, so a
 * decompression bomb is refused before decoding. 12-bit JPEG, which libvips cannot read, goes to
 * the in-house sequential decoder (grayscale only) and keeps its 12 bits.
 */
export async function decodeRaster(
  buf: Uint8Array,
  format: Exclude<ImageFormat, 'DICOM'>,
  limits: ImageLimits,
): Promise<DecodedImage> {
  const sof = format === 'JPEG' ? readJpegFrameHeader(buf) : null;
  if (sof && sof.precision === 12) return decodeJpeg12(buf, sof.width * sof.height, limits);
  const options: sharp.SharpOptions = {
    limitInputPixels: limits.maxPixels,
    failOn: 'warning',
    sequentialRead: true,
  };
  const plain = sof ? plainJpeg(sof) : format === 'PNG' ? plainPng(buf) : null;
  if (plain) return decodePlain(buf, format, plain, options, limits);
  let meta: sharp.Metadata;
  try {
    // Header only: no pixel limit here, so an oversized image is reported as IMAGE_TOO_LARGE below.
    meta = await sharp(buf, { ...options, limitInputPixels: false }).metadata();
  } catch (e) {
    throw ImageError.corrupt(`the ${kind(buf)} header cannot be read`, e);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  checkSize(width, height, limits);
  if ((meta.pages ?? 1) > 1) throw ImageError.multiFrame(meta.pages ?? 1);
  const sixteen = meta.depth === 'ushort';
  const channels = meta.channels ?? 1;
  const colour = channels >= 3;
  const { data, info } = await pixelsOf(
    sharp(buf, options)
      .removeAlpha()
      .toColourspace(sixteen ? 'grey16' : 'b-w')
      .raw({ depth: sixteen ? 'ushort' : 'uchar' }),
    buf,
    width,
    height,
    limits,
  );
  const pixels = firstBand(data, info.channels, width * height, sixteen);
  return rasterImage(format, width, height, sixteen, pixels, colour ? await chromaOf(buf, options) : null);
}

/** A decoded PNG or JPEG: a colour file reports `RGB` and its chroma, a grey one `MONOCHROME2`. */
function rasterImage(
  format: Exclude<ImageFormat, 'DICOM'>,
  width: number,
  height: number,
  sixteen: boolean,
  pixels: Float32Array,
  chroma: number | null,
): DecodedImage {
  return {
    format,
    width,
    height,
    bitsStored: sixteen ? 16 : 8,
    photometric: chroma === null ? 'MONOCHROME2' : 'RGB',
    pixels,
    invert: false,
    ...(chroma === null ? {} : { chroma }),
  };
}

/** The first band of interleaved 8 or 16-bit samples, as floats. */
function firstBand(data: Uint8Array, stride: number, count: number, sixteen: boolean): Float32Array {
  const pixels = new Float32Array(count);
  if (sixteen) {
    const samples = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    for (let i = 0; i < count; i++) pixels[i] = samples[i * stride]!;
  } else {
    for (let i = 0; i < count; i++) pixels[i] = data[i * stride]!;
  }
  return pixels;
}

/** What the file's own header says of a plain raster: its size, depth and channels (alpha included). */
interface PlainHeader {
  width: number;
  height: number;
  sixteen: boolean;
  channels: number;
  /** An embedded ICC profile, which sharp applies and the WASM decoder does not. */
  icc?: boolean;
}

/**
 * A JPEG the one-call path reads: Huffman-coded (baseline, extended or progressive), 8 bits, grey or
 * three components. Anything else (CMYK, arithmetic coding, lossless) takes the general path.
 */
function plainJpeg(sof: NonNullable<ReturnType<typeof readJpegFrameHeader>>): PlainHeader | null {
  if (sof.sof > 0xc2 || sof.precision !== 8 || (sof.components !== 1 && sof.components !== 3)) return null;
  return {
    width: sof.width,
    height: sof.height,
    sixteen: false,
    channels: sof.components,
    icc: sof.iccProfile,
  };
}

/**
 * Largest film (pixels) decoded in the calling thread: a JPEG by libjpeg-turbo's WebAssembly build, a
 * PNG by zlib and the row filters in JavaScript. Below it either takes about half of sharp's call
 * (whose fixed cost dominates a small film) and the WASM heap stays small; above it sharp's native
 * SIMD build is as fast or faster.
 */
const IN_THREAD_MAX_PIXELS = 1024 * 1024;

/** PNG colour types the one-call path reads, by bit depth: grey, RGB, grey+alpha, RGBA at 8; grey at 16. */
const PLAIN_PNG: Record<number, Record<number, number>> = { 8: { 0: 1, 2: 3, 4: 2, 6: 4 }, 16: { 0: 1 } };

/** The IHDR of a PNG the one-call path reads (see {@link PLAIN_PNG}); null for anything else. */
function plainPng(buf: Uint8Array): PlainHeader | null {
  // signature (8), IHDR length (4) = 13, 'IHDR', width (4), height (4), bit depth, colour type
  if (buf.length < 33 || buf[12] !== 0x49 || buf[13] !== 0x48 || buf[14] !== 0x44 || buf[15] !== 0x52)
    return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(8) !== 13) return null;
  const channels = PLAIN_PNG[buf[24]!]?.[buf[25]!];
  if (!channels) return null;
  return { width: view.getUint32(16), height: view.getUint32(20), sixteen: buf[24] === 16, channels };
}

/**
 * The one-call path: the header read here, the pixels decoded in one call as stored (in this thread
 * for a small film, else sharp), and luminance and chroma computed from them. Colour files give libvips' sRGB luminance (Rec. 709
 * weights in linear light) to within one grey level; a grey file stored as RGB gives its grey exactly.
 */
async function decodePlain(
  buf: Uint8Array,
  format: Exclude<ImageFormat, 'DICOM'>,
  header: PlainHeader,
  options: sharp.SharpOptions,
  limits: ImageLimits,
): Promise<DecodedImage> {
  const { width, height, sixteen } = header;
  checkSize(width, height, limits);
  const { data, stride } =
    (width * height > IN_THREAD_MAX_PIXELS
      ? null
      : format === 'JPEG'
        ? header.icc
          ? null
          : await smallJpeg(buf, header)
        : smallPng(buf, header, limits)) ?? (await sharpSamples(buf, header, options, limits));
  const count = width * height;
  const colour = stride >= 3;
  let pixels: Float32Array;
  // A grey film stored as RGB (every pixel R = G = B) has chroma 0, which boxChroma would also find.
  let grey = true;
  if (colour) {
    pixels = new Float32Array(count);
    for (let i = 0, o = 0; i < count; i++, o += stride) {
      const r = data[o]!;
      const g = data[o + 1]!;
      const b = data[o + 2]!;
      if (r === g && g === b) pixels[i] = r;
      else {
        grey = false;
        pixels[i] = srgbLuminance(r, g, b);
      }
    }
  } else pixels = firstBand(data, stride, count, sixteen);
  const chroma = !colour ? null : grey ? 0 : boxChroma(data, width, height, stride);
  return rasterImage(format, width, height, sixteen, pixels, chroma);
}

/** The samples as stored, decoded by sharp (as stored: it would otherwise hand a grey file out as sRGB). */
async function sharpSamples(
  buf: Uint8Array,
  header: PlainHeader,
  options: sharp.SharpOptions,
  limits: ImageLimits,
): Promise<{ data: Uint8Array; stride: number }> {
  const space = header.channels >= 3 ? 'srgb' : header.sixteen ? 'grey16' : 'b-w';
  const { data, info } = await pixelsOf(
    sharp(buf, options)
      .toColourspace(space)
      .raw({ depth: header.sixteen ? 'ushort' : 'uchar' }),
    buf,
    header.width,
    header.height,
    limits,
  );
  return { data, stride: info.channels };
}

/**
 * A small JPEG decoded by libjpeg-turbo (WASM) in the calling thread: the same library as sharp's,
 * sample for sample. Null when it refuses the file or decodes another size: sharp then decodes it and
 * gives the verdict (libjpeg's warnings are errors in this build, so it accepts nothing sharp refuses).
 */
async function smallJpeg(
  buf: Uint8Array,
  header: PlainHeader,
): Promise<{ data: Uint8Array; stride: number } | null> {
  try {
    const out = await decodeJpeg8(buf);
    if (out.width !== header.width || out.height !== header.height || out.components !== header.channels)
      return null;
    return { data: out.bytes, stride: out.components };
  } catch {
    return null;
  }
}

/** A small plain PNG decoded in the calling thread; null for anything else (sharp then decodes it). */
function smallPng(
  buf: Uint8Array,
  header: PlainHeader,
  limits: ImageLimits,
): { data: Uint8Array; stride: number } | null {
  const png = decodePlainPng(buf, limits.maxPixels);
  if (
    !png ||
    png.width !== header.width ||
    png.height !== header.height ||
    png.channels !== header.channels ||
    png.sixteen !== header.sixteen
  )
    return null;
  return { data: png.data, stride: png.channels };
}

function checkSize(width: number, height: number, limits: ImageLimits): void {
  if (width <= 0 || height <= 0) throw ImageError.corrupt('image has no size');
  if (width * height > limits.maxPixels) throw ImageError.tooLarge(width * height, limits.maxPixels);
}

/** Runs a decode, mapping sharp's failures to ImageError; checks the size it decoded to. */
async function pixelsOf(
  pipeline: sharp.Sharp,
  buf: Uint8Array,
  width: number,
  height: number,
  limits: ImageLimits,
): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (e) {
    const message = e instanceof Error ? e.message : '';
    if (/pixel limit/i.test(message)) throw ImageError.tooLarge(width * height, limits.maxPixels);
    // The library's own words ("VipsJpeg: Premature end of JPEG file") stay in the cause, for the log.
    throw ImageError.corrupt(`the ${kind(buf)} pixel data ends early or is damaged`, e);
  }
  if (out.info.width !== width || out.info.height !== height)
    throw ImageError.corrupt('decoded size differs from the header');
  return out;
}

/** sRGB (8-bit) to linear light. */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** libvips' `b-w` of an sRGB pixel: Rec. 709 luminance in linear light, encoded back to 8-bit sRGB. */
function srgbLuminance(r: number, g: number, b: number): number {
  const y = 0.2126 * LINEAR[r]! + 0.7152 * LINEAR[g]! + 0.0722 * LINEAR[b]!;
  const c = y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, c)) * 255);
}

/**
 * Mean |R−G| + |G−B| (8-bit units) of the image averaged over a 64×64 grid of boxes: how far from grey
 * a colour file is (within a unit of {@link chromaOf}'s libvips resize on the shared photos).
 */
function boxChroma(data: Uint8Array, width: number, height: number, stride: number): number {
  const GRID = 64;
  let sum = 0;
  for (let by = 0; by < GRID; by++) {
    const y0 = Math.floor((by * height) / GRID);
    const y1 = Math.max(y0 + 1, Math.floor(((by + 1) * height) / GRID));
    for (let bx = 0; bx < GRID; bx++) {
      const x0 = Math.floor((bx * width) / GRID);
      const x1 = Math.max(x0 + 1, Math.floor(((bx + 1) * width) / GRID));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < Math.min(y1, height); y++)
        for (let x = x0, o = (y * width + x0) * stride; x < Math.min(x1, width); x++, o += stride) {
          r += data[o]!;
          g += data[o + 1]!;
          b += data[o + 2]!;
        }
      const n = (Math.min(y1, height) - y0) * (Math.min(x1, width) - x0);
      if (n > 0) sum += (Math.abs(r - g) + Math.abs(g - b)) / n;
    }
  }
  return sum / (GRID * GRID);
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

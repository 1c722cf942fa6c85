import * as zlib from 'node:zlib';

/** zlib's CRC-32: Node 20.15 and later (the project allows 20.9, where every PNG goes to sharp). */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** Samples of a PNG as stored: interleaved, one byte each at depth 8, host-order 16-bit at depth 16. */
export interface PngSamples {
  width: number;
  height: number;
  channels: number;
  sixteen: boolean;
  /** `width × height × channels` bytes (depth 8) or the bytes of as many 16-bit samples (depth 16). */
  data: Uint8Array;
}

/** Channels by colour type: grey, RGB, grey + alpha, RGBA (palette and sub-byte depths are not read here). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * Decodes a plain PNG in the calling thread (zlib and the five row filters): not interlaced, depth 8
 * (grey, RGB, grey + alpha, RGBA) or 16 (grey), no ICC profile, every chunk's CRC right, the image data
 * inflating to exactly its rows. Anything else, damaged files included, gives null: the caller then
 * decodes with libvips, whose verdict stands. `maxPixels` bounds the inflated size before inflating.
 */
export function decodePlainPng(buf: Uint8Array, maxPixels: number): PngSamples | null {
  if (!crc32 || buf.length < 57) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let width = 0;
  let height = 0;
  let depth = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; at + 12 <= buf.length;) {
    const length = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const end = at + 12 + length;
    if (end > buf.length) return null;
    if (crc32(buf.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) return null;
    if (at === 8) {
      // IHDR first, 13 bytes: width, height, depth, colour type, compression 0, filter 0, interlace 0
      if (type !== 0x49484452 || length !== 13) return null;
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      depth = buf[at + 16]!;
      channels = CHANNELS[buf[at + 17]!] ?? 0;
      if (buf[at + 18] !== 0 || buf[at + 19] !== 0 || buf[at + 20] !== 0) return null;
      if (!channels || !(depth === 8 || (depth === 16 && channels === 1))) return null;
      if (width === 0 || height === 0 || width * height > maxPixels) return null;
    } else if (type === 0x49444154) idat.push(buf.subarray(at + 8, at + 8 + length));
    else if (type === 0x69434350)
      return null; // iCCP: libvips converts through the profile
    else if (type === 0x49454e44) {
      ended = true;
      break;
    }
    at = end;
  }
  if (!ended || idat.length === 0 || !width) return null;
  const bpp = channels * (depth / 8);
  const rowBytes = width * bpp;
  const expected = height * (rowBytes + 1);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), {
      maxOutputLength: expected + 1,
    });
  } catch {
    return null;
  }
  if (raw.length !== expected) return null;
  const out = new Uint8Array(height * rowBytes);
  if (!unfilter(raw, out, height, rowBytes, bpp)) return null;
  if (depth === 8) return { width, height, channels, sixteen: false, data: out };
  const samples = new Uint16Array(width * height);
  for (let i = 0; i < samples.length; i++) samples[i] = (out[2 * i]! << 8) | out[2 * i + 1]!;
  return { width, height, channels, sixteen: true, data: new Uint8Array(samples.buffer) };
}

/** Undoes the row filters (PNG §9: None, Sub, Up, Average, Paeth); false on an unknown filter type. */
function unfilter(raw: Uint8Array, out: Uint8Array, height: number, rowBytes: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)]!;
    const src = y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const prev = row - rowBytes;
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + rowBytes), row);
        break;
      case 1:
        for (let x = 0; x < rowBytes; x++)
          out[row + x] = (raw[src + x]! + (x >= bpp ? out[row + x - bpp]! : 0)) & 255;
        break;
      case 2:
        for (let x = 0; x < rowBytes; x++)
          out[row + x] = (raw[src + x]! + (y > 0 ? out[prev + x]! : 0)) & 255;
        break;
      case 3:
        for (let x = 0; x < rowBytes; x++) {
          const left = x >= bpp ? out[row + x - bpp]! : 0;
          const up = y > 0 ? out[prev + x]! : 0;
          out[row + x] = (raw[src + x]! + ((left + up) >> 1)) & 255;
        }
        break;
      case 4:
        for (let x = 0; x < rowBytes; x++) {
          const a = x >= bpp ? out[row + x - bpp]! : 0;
          const b = y > 0 ? out[prev + x]! : 0;
          const c = x >= bpp && y > 0 ? out[prev + x - bpp]! : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          out[row + x] = (raw[src + x]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
        }
        break;
      default:
        return false;
    }
  }
  return true;
}

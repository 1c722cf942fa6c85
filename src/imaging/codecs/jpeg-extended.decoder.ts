import { CodecError } from './codec-error';

/**
 * A small sequential-DCT JPEG decoder (ITU T.81 processes 1, 2 and 4, Huffman coding) for single-
 * component images of 8 or 12-bit precision. It exists because no installed codec decodes 12-bit
 * lossy JPEG (DICOM JPEG Extended, 1.2.840.10008.1.2.4.51): libjpeg-turbo's WASM build is 8-bit only.
 * The inverse DCT is the exact separable float transform, so results differ from libjpeg's integer
 * IDCT by at most a few grey levels.
 */
export interface JpegExtendedImage {
  width: number;
  height: number;
  precision: number;
  samples: Uint16Array;
}

/**
 * Reads precision, size and component count from the first SOF marker, without decoding, and whether
 * an ICC profile (APP2 `ICC_PROFILE`) came before it.
 */
export function readJpegFrameHeader(data: Uint8Array): {
  sof: number;
  precision: number;
  width: number;
  height: number;
  components: number;
  iccProfile: boolean;
} | null {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return null;
  let i = 2;
  let iccProfile = false;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) return null;
    const marker = data[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const length = (data[i + 2]! << 8) | data[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 10 > data.length) return null;
      return {
        sof: marker,
        precision: data[i + 4]!,
        height: (data[i + 5]! << 8) | data[i + 6]!,
        width: (data[i + 7]! << 8) | data[i + 8]!,
        components: data[i + 9]!,
        iccProfile,
      };
    }
    if (marker === 0xe2 && i + 15 <= data.length && ICC_SIGNATURE.every((c, k) => data[i + 4 + k] === c))
      iccProfile = true;
    if (marker === 0xd9 || marker === 0xda) return null;
    i += 2 + length;
  }
  return null;
}

/** `ICC_PROFILE\0`, the signature of an APP2 segment holding an ICC profile. */
const ICC_SIGNATURE = [0x49, 0x43, 0x43, 0x5f, 0x50, 0x52, 0x4f, 0x46, 0x49, 0x4c, 0x45, 0x00];

const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

/** cos table: COS[x*8+u] = C(u)/2 · cos((2x+1)uπ/16). */
const COS = (() => {
  const t = new Float64Array(64);
  for (let x = 0; x < 8; x++) {
    for (let u = 0; u < 8; u++)
      t[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return t;
})();

interface HuffmanTable {
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n > 0) {
      valptr[l] = k;
      mincode[l] = code;
      code += n;
      k += n;
      maxcode[l] = code - 1;
    }
    if (code > 1 << l) throw new CodecError('invalid Huffman table');
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, valptr, mincode, values };
}

class BitReader {
  private bits = 0;
  private count = 0;
  marker = -1;
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}
  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (this.marker < 0 && this.pos < this.data.length) {
        byte = this.data[this.pos]!;
        if (byte === 0xff) {
          const next = this.data[this.pos + 1];
          if (next === 0x00) {
            this.pos += 2;
          } else {
            this.marker = next ?? 0xd9;
            byte = 0;
          }
        } else {
          this.pos++;
        }
      } else if (this.marker < 0) {
        this.marker = 0xd9;
      }
      this.bits = ((this.bits << 8) | byte) >>> 0;
      this.count += 8;
    }
  }
  bit(): number {
    if (this.count === 0) this.fill();
    this.count--;
    return (this.bits >>> this.count) & 1;
  }
  receive(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }
  /** Drops buffered bits and consumes an expected RSTn marker. */
  restart(): void {
    this.bits = 0;
    this.count = 0;
    if (this.marker < 0) {
      while (
        this.pos + 1 < this.data.length &&
        !(
          this.data[this.pos] === 0xff &&
          this.data[this.pos + 1]! >= 0xd0 &&
          this.data[this.pos + 1]! <= 0xd7
        )
      )
        this.pos++;
      this.marker = this.pos + 1 < this.data.length ? this.data[this.pos + 1]! : 0xd9;
    }
    if (this.marker < 0xd0 || this.marker > 0xd7) throw new CodecError('missing JPEG restart marker');
    this.pos += 2;
    this.marker = -1;
  }
}

function decodeHuffman(r: BitReader, t: HuffmanTable): number {
  let code = r.bit();
  let l = 1;
  while (code > t.maxcode[l]!) {
    code = (code << 1) | r.bit();
    l++;
    if (l > 16) throw new CodecError('bad Huffman code');
  }
  const idx = t.valptr[l]! + code - t.mincode[l]!;
  if (idx >= t.values.length) throw new CodecError('bad Huffman code');
  return t.values[idx]!;
}

function extend(v: number, s: number): number {
  return s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

type Frame = { precision: number; width: number; height: number; qt: number };

/** DQT: quantisation tables (8- or 16-bit entries) into `quant` by id. */
function readQuantisationTables(seg: Uint8Array, quant: (Uint16Array | undefined)[]): void {
  let p = 0;
  while (p < seg.length) {
    const pq = seg[p]! >> 4;
    const tq = seg[p]! & 15;
    p++;
    if (tq > 3) throw new CodecError('bad quantisation table id');
    const table = new Uint16Array(64);
    for (let k = 0; k < 64; k++) {
      if (pq === 0) table[k] = seg[p++] ?? 0;
      else {
        table[k] = ((seg[p] ?? 0) << 8) | (seg[p + 1] ?? 0);
        p += 2;
      }
    }
    if (p > seg.length) throw new CodecError('quantisation table truncated');
    quant[tq] = table;
  }
}

/** DHT: Huffman tables into `dc` or `ac` by id. */
function readHuffmanTables(
  seg: Uint8Array,
  dc: (HuffmanTable | undefined)[],
  ac: (HuffmanTable | undefined)[],
): void {
  let p = 0;
  while (p < seg.length) {
    const tc = seg[p]! >> 4;
    const th = seg[p]! & 15;
    if (th > 3 || tc > 1) throw new CodecError('bad Huffman table id');
    const counts = seg.subarray(p + 1, p + 17);
    if (counts.length < 16) throw new CodecError('Huffman table truncated');
    let total = 0;
    for (let k = 0; k < 16; k++) total += counts[k]!;
    const values = seg.slice(p + 17, p + 17 + total);
    if (values.length < total) throw new CodecError('Huffman table truncated');
    (tc === 0 ? dc : ac)[th] = buildHuffman(counts, values);
    p += 17 + total;
  }
}

/** SOF0/SOF1: a single-component frame of precision 8 or 12. */
function readFrameHeader(seg: Uint8Array): Frame {
  if (seg.length < 9) throw new CodecError('SOF truncated');
  const precision = seg[0]!;
  const height = (seg[1]! << 8) | seg[2]!;
  const width = (seg[3]! << 8) | seg[4]!;
  if (seg[5] !== 1) throw new CodecError('only single-component JPEG is supported here', true);
  if (precision !== 8 && precision !== 12) throw new CodecError(`JPEG precision ${precision} is not 8 or 12`);
  if (width === 0 || height === 0) throw new CodecError('JPEG frame has no size');
  return { precision, width, height, qt: seg[8]! & 3 };
}

/**
 * Decodes a single-component sequential JPEG (SOF0/SOF1, Huffman) of precision 8 or 12 into samples.
 * Throws {@link CodecError} for malformed streams or unsupported variants (progressive, arithmetic,
 * lossless, colour).
 */
export function decodeJpegExtended(data: Uint8Array): JpegExtendedImage {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) throw new CodecError('no JPEG SOI marker');
  const quant: (Uint16Array | undefined)[] = [];
  const dc: (HuffmanTable | undefined)[] = [];
  const ac: (HuffmanTable | undefined)[] = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let out: Uint16Array | undefined;
  let i = 2;
  const need = (n: number): void => {
    if (i + n > data.length) throw new CodecError('JPEG stream truncated');
  };
  while (i < data.length) {
    need(2);
    if (data[i] !== 0xff) throw new CodecError('expected a JPEG marker');
    const marker = data[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    i += 2;
    if (marker === 0xd9) break;
    if (marker >= 0xd0 && marker <= 0xd7) continue;
    need(2);
    const length = (data[i]! << 8) | data[i + 1]!;
    if (length < 2) throw new CodecError('bad JPEG segment length');
    need(length);
    const seg = data.subarray(i + 2, i + length);
    switch (marker) {
      case 0xdb:
        readQuantisationTables(seg, quant);
        break;
      case 0xc4:
        readHuffmanTables(seg, dc, ac);
        break;
      case 0xc0:
      case 0xc1:
        frame = readFrameHeader(seg);
        break;
      case 0xdd:
        if (seg.length < 2) throw new CodecError('DRI truncated');
        restartInterval = (seg[0]! << 8) | seg[1]!;
        break;
      case 0xda: {
        if (!frame) throw new CodecError('scan before frame header');
        if (seg.length < 6 || seg[0] !== 1) throw new CodecError('bad scan header');
        const td = seg[2]! >> 4;
        const ta = seg[2]! & 15;
        const dcTable = dc[td];
        const acTable = ac[ta];
        const q = quant[frame.qt];
        if (!dcTable || !acTable || !q) throw new CodecError('scan references a missing table');
        out = decodeScan(data, i + length, frame, dcTable, acTable, q, restartInterval);
        return { width: frame.width, height: frame.height, precision: frame.precision, samples: out };
      }
      default:
        if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          throw new CodecError(
            `JPEG process SOF${marker - 0xc0} is not supported by the extended decoder`,
            true,
          );
        }
    }
    i += length;
  }
  throw new CodecError('JPEG stream has no scan');
}

function decodeScan(
  data: Uint8Array,
  start: number,
  frame: { precision: number; width: number; height: number },
  dcTable: HuffmanTable,
  acTable: HuffmanTable,
  q: Uint16Array,
  restartInterval: number,
): Uint16Array {
  const { width, height, precision } = frame;
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  const out = new Uint16Array(width * height);
  const r = new BitReader(data, start);
  const coef = new Float64Array(64);
  const tmp = new Float64Array(64);
  const shift = 1 << (precision - 1);
  const maxVal = (1 << precision) - 1;
  let pred = 0;
  let mcu = 0;
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
        r.restart();
        pred = 0;
      }
      mcu++;
      coef.fill(0);
      const t = decodeHuffman(r, dcTable);
      if (t > 16) throw new CodecError('bad DC magnitude');
      pred += extend(r.receive(t), t);
      coef[0] = pred * q[0]!;
      for (let k = 1; k < 64;) {
        const rs = decodeHuffman(r, acTable);
        const s = rs & 15;
        const run = rs >> 4;
        if (s === 0) {
          if (run === 15) {
            k += 16;
            continue;
          }
          break;
        }
        k += run;
        if (k > 63) throw new CodecError('AC coefficient index out of range');
        coef[ZIGZAG[k]!] = extend(r.receive(s), s) * q[k]!;
        k++;
      }
      if (r.marker >= 0 && r.marker !== 0xd9 && !(r.marker >= 0xd0 && r.marker <= 0xd7))
        throw new CodecError('unexpected marker inside scan');
      // Rows: tmp[y*8+x] = sum_u COS[x*8+u] * coef[y*8+u]
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          let s = 0;
          for (let u = 0; u < 8; u++) s += COS[x * 8 + u]! * coef[y * 8 + u]!;
          tmp[y * 8 + x] = s;
        }
      }
      for (let x = 0; x < 8; x++) {
        const px = bx * 8 + x;
        if (px >= width) continue;
        for (let y = 0; y < 8; y++) {
          const py = by * 8 + y;
          if (py >= height) break;
          let s = 0;
          for (let v = 0; v < 8; v++) s += COS[y * 8 + v]! * tmp[v * 8 + x]!;
          const val = Math.round(s + shift);
          out[py * width + px] = val < 0 ? 0 : val > maxVal ? maxVal : val;
        }
      }
    }
  }
  if (r.marker === 0xd9 && r.pos >= data.length) {
    // Ran out of data: libjpeg pads with zeros and warns; a stream this short is corrupt.
    throw new CodecError('JPEG entropy-coded data truncated');
  }
  return out;
}

/**
 * Shared helpers of the imaging integration tests: where the shared data lives, loud skipping (a
 * failure under CI=true), and reference decodes made at test time with dcmtk or gdcm.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as dicomParser from 'dicom-parser';
import { datasetPath, SHARED_DIR } from '../support/shared-data';

export { SHARED_DIR };
/** The DICOM test material of the shared data (all of it, with index.csv). */
export const DICOM_DIR = path.join(SHARED_DIR, 'datasets/dicom');

/** A file under datasets/dicom/: the committed fixture when test/fixtures/ holds it, else the shared one. */
export function dicomPath(relative: string): string {
  return datasetPath(`dicom/${relative}`);
}

/** Prints "SKIPPED: reason" loudly; under CI=true the test fails instead. Returns true to let callers `return`. */
export function skip(reason: string): true {
  const line = `SKIPPED: ${reason}`;

  console.warn(`\n${'!'.repeat(line.length)}\n${line}\n${'!'.repeat(line.length)}`);
  if (process.env.CI === 'true') throw new Error(`${line} (not allowed when CI=true)`);
  return true;
}

/**
 * Prints a loud warning about a gap in the shared data that the tests cover another way (or that
 * the data owner must fix); unlike {@link skip} it does not fail under CI.
 */
export function warn(message: string): void {
  console.warn(`\nWARNING (shared data): ${message}`);
}

/** True when `tool` is on the PATH. */
export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Lists the rows of index.csv whose path starts with `prefix` (quoted CSV fields handled). */
export function indexRows(prefix: string): {
  path: string;
  transferSyntaxUid: string;
  photometric: string;
  rows: number;
  cols: number;
  bitsStored: number;
}[] {
  const file = path.join(DICOM_DIR, 'index.csv');
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return lines
    .map((line) =>
      line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((f) => f.replace(/,$/, '').replace(/^"|"$/g, '')),
    )
    .filter((f) => f[0]!.startsWith(prefix))
    .map((f) => ({
      path: f[0]!,
      transferSyntaxUid: f[2]!,
      photometric: f[4]!,
      rows: Number(f[5]),
      cols: Number(f[6]),
      bitsStored: Number(f[7]),
    }));
}

/** Reference stored values and header fields read back from a decompressed copy. */
export interface ReferenceDecode {
  tool: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  /** Bits Stored in the decompressed copy (gdcm may widen it to the codestream precision). */
  bitsStored: number;
  /** Bits Stored in the original header, used to mask the reference values. */
  originalBitsStored: number;
  stored: Int32Array;
}

/**
 * Decompresses `file` with a Debian tool (dcmdjpeg for the JPEG family, dcmdjpls for JPEG-LS, dcmdrle for RLE, gdcmconv
 * --raw otherwise; uncompressed files are read as they are) and returns its stored values, masked to
 * Bits Stored and sign-extended like the product does. Returns null when the tool is missing.
 */
export function referenceDecode(file: string, transferSyntaxUid: string): ReferenceDecode | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'cc-ref-'));
  try {
    const out = path.join(dir, 'raw.dcm');
    let tool: string;
    if (
      [
        '1.2.840.10008.1.2.4.50',
        '1.2.840.10008.1.2.4.51',
        '1.2.840.10008.1.2.4.57',
        '1.2.840.10008.1.2.4.70',
      ].includes(transferSyntaxUid)
    )
      tool = 'dcmdjpeg';
    else if (transferSyntaxUid === '1.2.840.10008.1.2.5') tool = 'dcmdrle';
    else if (['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'].includes(transferSyntaxUid))
      tool = 'dcmdjpls';
    else if (
      ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', ''].includes(transferSyntaxUid)
    )
      tool = 'none';
    else tool = 'gdcmconv';
    if (tool !== 'none' && !hasTool(tool)) return null;
    if (tool === 'gdcmconv') execFileSync('gdcmconv', ['--raw', file, out], { stdio: 'pipe' });
    else if (tool !== 'none') execFileSync(tool, [file, out], { stdio: 'pipe' });
    const bytes = readFileSync(tool === 'none' ? file : out);
    const ds = dicomParser.parseDicom(
      bytes,
      bytes[128] === 0x44 ? {} : { TransferSyntaxUID: '1.2.840.10008.1.2' },
    );
    const rows = ds.uint16('x00280010')!;
    const columns = ds.uint16('x00280011')!;
    const bitsAllocated = ds.uint16('x00280100')!;
    // gdcm rewrites Bits Stored from the J2K precision; the original header says what the values mean.
    const original = readFileSync(file);
    const ods = dicomParser.parseDicom(
      original,
      original[128] === 0x44
        ? { untilTag: 'x7fe00010' }
        : { TransferSyntaxUID: '1.2.840.10008.1.2', untilTag: 'x7fe00010' },
    );
    const bitsStored = ods.uint16('x00280101')!;
    const highBit = tool === 'none' ? (ds.uint16('x00280102') ?? bitsStored - 1) : bitsStored - 1;
    const signed = ods.uint16('x00280103') === 1;
    const ts = bytes[128] === 0x44 ? ds.string('x00020010') : '1.2.840.10008.1.2';
    const el = ds.elements['x7fe00010']!;
    const n = rows * columns;
    const view = new DataView(bytes.buffer, bytes.byteOffset + el.dataOffset, el.length);
    const stored = new Int32Array(n);
    const shift = highBit + 1 - bitsStored;
    const mask = (1 << bitsStored) - 1;
    for (let i = 0; i < n; i++) {
      const raw =
        bitsAllocated === 8 ? view.getUint8(i) : view.getUint16(i * 2, ts !== '1.2.840.10008.1.2.2');
      let v = (raw >>> shift) & mask;
      if (signed && v & (1 << (bitsStored - 1))) v -= 1 << bitsStored;
      stored[i] = v;
    }
    return {
      tool,
      rows,
      columns,
      bitsAllocated,
      bitsStored: ds.uint16('x00280101')!,
      originalBitsStored: bitsStored,
      stored,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Max and mean absolute difference of two equally long arrays, and the reference's value range. */
export function compare(
  a: ArrayLike<number>,
  ref: ArrayLike<number>,
): { maxAbs: number; meanAbs: number; range: number } {
  let maxAbs = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(a[i]! - ref[i]!);
    if (d > maxAbs) maxAbs = d;
    sum += d;
    if (ref[i]! < min) min = ref[i]!;
    if (ref[i]! > max) max = ref[i]!;
  }
  return { maxAbs, meanAbs: sum / ref.length, range: max - min };
}

/**
 * Independent PNG reference for non-interlaced grayscale 8/16-bit files: inflates IDAT with zlib
 * and undoes the five PNG row filters. Enough to check the sharp path bit-exactly.
 */
export function referencePngGray(bytes: Uint8Array): {
  width: number;
  height: number;
  depth: number;
  samples: Uint16Array;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  const idat: Uint8Array[] = [];
  while (pos < bytes.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      depth = data[8]!;
      if (data[9] !== 0 || data[12] !== 0)
        throw new Error('reference PNG decoder handles non-interlaced grayscale only');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const raw: Buffer = require('node:zlib').inflateSync(Buffer.concat(idat));
  const bpp = depth / 8;
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  const samples = new Uint16Array(width * height);
  for (let i = 0; i < samples.length; i++)
    samples[i] = depth === 16 ? (out[2 * i]! << 8) | out[2 * i + 1]! : out[i]!;
  return { width, height, depth, samples };
}

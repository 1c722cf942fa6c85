/**
 * Files an attacker sends to the intake (decompression bombs), built in memory: deflated DICOM whose
 * header claims more pixels than allowed or less than its stream inflates to, an RLE DICOM of
 * 7000 × 7000 pixels, and a 16-bit PNG of 7000 × 7000 zeros (about 95 KB each once compressed).
 */
import { randomUUID } from 'node:crypto';
import { createDeflate, createDeflateRaw } from 'node:zlib';
import { el, encodeDataset, fileMetaInformation } from '../../src/imaging/dicom/dicom-writer';

const CR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.1';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const RLE = '1.2.840.10008.1.2.5';
const MIB = 1024 * 1024;

/** A fresh UID under 2.25. */
export const uid = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;

/** The UIDs a built file carries. */
export interface Identity {
  sopInstanceUid: string;
  studyInstanceUid: string;
}

function imageHeader(rows: number, columns: number, bitsAllocated: number, id: Identity) {
  return encodeDataset([
    el(0x00080016, 'UI', CR_IMAGE_STORAGE),
    el(0x00080018, 'UI', id.sopInstanceUid),
    el(0x00080060, 'CS', 'CR'),
    el(0x00100010, 'PN', 'Bomb^Test'),
    el(0x00100020, 'LO', `BOMB-${randomUUID().slice(0, 8)}`),
    el(0x00180015, 'CS', 'CHEST'),
    el(0x00185101, 'CS', 'PA'),
    el(0x0020000d, 'UI', id.studyInstanceUid),
    el(0x0020000e, 'UI', uid()),
    el(0x00280002, 'US', [1]),
    el(0x00280004, 'CS', 'MONOCHROME2'),
    el(0x00280010, 'US', [rows]),
    el(0x00280011, 'US', [columns]),
    el(0x00280100, 'US', [bitsAllocated]),
    el(0x00280101, 'US', [bitsAllocated]),
    el(0x00280102, 'US', [bitsAllocated - 1]),
    el(0x00280103, 'US', [0]),
  ]);
}

/** The header of a Pixel Data element (Explicit VR LE, OB) of `length` bytes (0xffffffff: undefined). */
function pixelDataHeader(length: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(0x7fe0, 0);
  b.writeUInt16LE(0x0010, 2);
  b.write('OB', 4, 'latin1');
  b.writeUInt32LE(length, 8);
  return b;
}

/** Compresses `head` followed by `zeros` zero bytes as a stream (never holding the zeros at once). */
async function compressWithZeros(
  deflate: ReturnType<typeof createDeflateRaw>,
  head: Buffer,
  zeros: number,
  tail: Buffer = Buffer.alloc(0),
): Promise<Buffer> {
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  const write = (b: Buffer) =>
    new Promise<void>((resolve) => (deflate.write(b) ? resolve() : deflate.once('drain', resolve)));
  await write(head);
  const zero = Buffer.alloc(MIB);
  for (let left = zeros; left > 0; left -= MIB) await write(left >= MIB ? zero : zero.subarray(0, left));
  if (tail.length) await write(tail);
  deflate.end();
  await done;
  return Buffer.concat(out);
}

/**
 * A Deflated Explicit VR Little Endian DICOM: a `rows` × `columns` 8-bit header, and a Pixel Data
 * element declaring and holding `pixelBytes` zero bytes. With pixelBytes far beyond rows × columns
 * (or a header claiming millions of pixels) it is a decompression bomb of a few kilobytes.
 */
export async function deflatedDicom(options: {
  rows: number;
  columns: number;
  pixelBytes: number;
}): Promise<{ bytes: Buffer } & Identity> {
  const id = { sopInstanceUid: uid(), studyInstanceUid: uid() };
  const header = Buffer.concat([
    imageHeader(options.rows, options.columns, 8, id),
    pixelDataHeader(options.pixelBytes),
  ]);
  const body = await compressWithZeros(createDeflateRaw({ level: 9 }), header, options.pixelBytes);
  const bytes = Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    fileMetaInformation(CR_IMAGE_STORAGE, id.sopInstanceUid, DEFLATED),
    body,
  ]);
  return { bytes, ...id };
}

/** An RLE Lossless DICOM of `size` × `size` 8-bit pixels, all 100: about 766 KB for 7000². */
export function rleDicom(size: number): { bytes: Buffer } & Identity {
  const id = { sopInstanceUid: uid(), studyInstanceUid: uid() };
  const pixels = size * size;
  const runs = Math.ceil(pixels / 128);
  const segment = Buffer.alloc(runs * 2);
  for (let r = 0, left = pixels; r < runs; r++, left -= 128) {
    segment[r * 2] = 257 - Math.min(128, left); // PackBits: repeat the next byte 257 − n times
    segment[r * 2 + 1] = 100;
  }
  const rleHeader = Buffer.alloc(64);
  rleHeader.writeUInt32LE(1, 0);
  rleHeader.writeUInt32LE(64, 4);
  let frame = Buffer.concat([rleHeader, segment]);
  if (frame.length % 2) frame = Buffer.concat([frame, Buffer.alloc(1)]);
  const item = (length: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(0xfffe, 0);
    b.writeUInt16LE(0xe000, 2);
    b.writeUInt32LE(length, 4);
    return b;
  };
  const sequenceEnd = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  const bytes = Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    fileMetaInformation(CR_IMAGE_STORAGE, id.sopInstanceUid, RLE),
    imageHeader(size, size, 8, id),
    pixelDataHeader(0xffffffff),
    item(0),
    item(frame.length),
    frame,
    sequenceEnd,
  ]);
  return { bytes, ...id };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A valid 16-bit grayscale PNG of `size` × `size` zeros: ~95 KB for 7000², 98 MB once decoded. */
export async function png16Zeros(size: number): Promise<Buffer> {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = 0; // grayscale
  // Every row: filter byte 0 then 2 × size zero bytes, i.e. all zeros.
  const idat = await compressWithZeros(createDeflate({ level: 9 }), Buffer.alloc(0), size * (1 + 2 * size));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

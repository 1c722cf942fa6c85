/**
 * A small DICOM Part 10 writer (Explicit VR Little Endian) for the objects the product creates (AI
 * result structured reports) and the File Meta Information of the files it rewrites (de-identified
 * copies). Reading DICOM is elsewhere in `src/imaging/dicom/`; this only writes.
 */

/** Value representations the writer supports. */
export type Vr =
  | 'AE'
  | 'AS'
  | 'CS'
  | 'DA'
  | 'DS'
  | 'DT'
  | 'IS'
  | 'LO'
  | 'LT'
  | 'PN'
  | 'SH'
  | 'ST'
  | 'TM'
  | 'UI'
  | 'UT'
  | 'UR'
  | 'US'
  | 'UL'
  | 'OB'
  | 'SQ';

/** One data element; `value` is text (multi-values joined by the writer), numbers, bytes or items. */
export interface DicomElement {
  tag: number;
  vr: Vr;
  value: string | string[] | number[] | Buffer | DicomDataset[];
}

/** A data set: elements in any order (the writer sorts them by tag). */
export type DicomDataset = DicomElement[];

/** Explicit VR Little Endian. */
const EXPLICIT_VR_LITTLE_ENDIAN_UID = '1.2.840.10008.1.2.1';
const LONG_LENGTH_VRS = new Set<Vr>(['OB', 'SQ', 'UT', 'UR']);
const ITEM = 0xfffee000;
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;

/** Shorthand for an element. */
export function el(tag: number, vr: Vr, value: DicomElement['value']): DicomElement {
  return { tag, vr, value };
}

function tagBytes(tag: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  return b;
}

function valueBytes(e: DicomElement): Buffer {
  switch (e.vr) {
    case 'US': {
      const v = e.value as number[];
      const b = Buffer.alloc(v.length * 2);
      v.forEach((n, i) => b.writeUInt16LE(n, i * 2));
      return b;
    }
    case 'UL': {
      const v = e.value as number[];
      const b = Buffer.alloc(v.length * 4);
      v.forEach((n, i) => b.writeUInt32LE(n, i * 4));
      return b;
    }
    case 'OB': {
      const v = e.value as Buffer;
      return v.length % 2 ? Buffer.concat([v, Buffer.alloc(1)]) : v;
    }
    default: {
      const text = Array.isArray(e.value) ? (e.value as string[]).join('\\') : (e.value as string);
      const b = Buffer.from(text, 'utf8');
      if (b.length % 2 === 0) return b;
      return Buffer.concat([b, Buffer.from(e.vr === 'UI' ? [0] : [0x20])]);
    }
  }
}

function writeElement(e: DicomElement, out: Buffer[]): void {
  const header = Buffer.alloc(LONG_LENGTH_VRS.has(e.vr) ? 12 : 8);
  tagBytes(e.tag).copy(header, 0);
  header.write(e.vr, 4, 'latin1');
  if (e.vr === 'SQ') {
    header.writeUInt32LE(0xffffffff, 8);
    out.push(header);
    for (const item of e.value as DicomDataset[]) {
      const itemHeader = Buffer.alloc(8);
      tagBytes(ITEM).copy(itemHeader, 0);
      itemHeader.writeUInt32LE(0xffffffff, 4);
      out.push(itemHeader);
      writeDataset(item, out);
      const end = Buffer.alloc(8);
      tagBytes(ITEM_DELIMITATION).copy(end, 0);
      out.push(end);
    }
    const end = Buffer.alloc(8);
    tagBytes(SEQUENCE_DELIMITATION).copy(end, 0);
    out.push(end);
    return;
  }
  const value = valueBytes(e);
  if (LONG_LENGTH_VRS.has(e.vr)) header.writeUInt32LE(value.length, 8);
  else {
    if (value.length > 0xfffe) throw new RangeError(`value of (${e.tag.toString(16)}) too long for ${e.vr}`);
    header.writeUInt16LE(value.length, 6);
  }
  out.push(header, value);
}

function writeDataset(ds: DicomDataset, out: Buffer[]): void {
  const sorted = [...ds].sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.tag === sorted[i - 1]!.tag)
      throw new RangeError(`duplicate tag ${sorted[i]!.tag.toString(16)}`);
  for (const e of sorted) writeElement(e, out);
}

/** Encodes a data set body (no preamble, no meta) in Explicit VR Little Endian. */
export function encodeDataset(ds: DicomDataset): Buffer {
  const out: Buffer[] = [];
  writeDataset(ds, out);
  return Buffer.concat(out);
}

/** Implementation identity written into the File Meta Information of every file the product writes (a 2.25 UUID-derived UID). */
const IMPLEMENTATION_CLASS_UID = '2.25.210746148447353160826539735520936401441';
const IMPLEMENTATION_VERSION = 'CARECOMP_0_1';

/**
 * File Meta Information (group 0002) with its group length, always Explicit VR Little Endian, for a
 * data set of the given SOP class and instance encoded in `transferSyntaxUid`.
 */
export function fileMetaInformation(
  sopClassUid: string,
  sopInstanceUid: string,
  transferSyntaxUid: string = EXPLICIT_VR_LITTLE_ENDIAN_UID,
): Buffer {
  const meta = encodeDataset([
    el(0x00020001, 'OB', Buffer.from([0, 1])),
    el(0x00020002, 'UI', sopClassUid),
    el(0x00020003, 'UI', sopInstanceUid),
    el(0x00020010, 'UI', transferSyntaxUid),
    el(0x00020012, 'UI', IMPLEMENTATION_CLASS_UID),
    el(0x00020013, 'SH', IMPLEMENTATION_VERSION),
  ]);
  return Buffer.concat([encodeDataset([el(0x00020000, 'UL', [meta.length])]), meta]);
}

/**
 * Writes a Part 10 file: 128-byte preamble, "DICM", File Meta Information (group 0002 with its group
 * length) and the data set, all Explicit VR Little Endian. SOP Class and Instance UIDs come from the
 * data set.
 */
export function writePart10(ds: DicomDataset): Buffer {
  const find = (tag: number) => ds.find((e) => e.tag === tag)?.value as string | undefined;
  const sopClass = find(0x00080016);
  const sopInstance = find(0x00080018);
  if (!sopClass || !sopInstance) throw new RangeError('the data set needs SOP Class and SOP Instance UIDs');
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    fileMetaInformation(sopClass, sopInstance),
    encodeDataset(ds),
  ]);
}

import { createHmac } from 'node:crypto';
import type * as dicomParser from 'dicom-parser';
import { ImageError } from '../../errors/image-errors';
import { parseDicomDataSet } from './dicom-header';
import { el, encodeDataset, fileMetaInformation } from './dicom-writer';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from './transfer-syntax';

/**
 * PS3.15 Annex E Basic Application Level Confidentiality Profile, applied by rewriting the object as
 * a new Part 10 file (Explicit VR Little Endian, or the source's compressed syntax with its
 * encapsulated fragments copied unchanged).
 *
 * - Table E.1-1 actions for the attributes a radiograph carries: `Z` (zero length), `D` (dummy:
 *   the pseudonymous patient key), `U` (UIDs remapped with a keyed hash into `2.25.<n>`, so
 *   the same source UID always maps to the same new UID and cannot be reversed without the key),
 *   `X` (removed).
 * - Private tags (odd groups) are removed; so is every sequence and every curve/overlay group.
 * - Standard attributes that the table does not list are kept only when they are on
 *   {@link RETAINED}: the pixel-module and acquisition attributes needed to render and label the
 *   film. Anything else is removed. This is stricter than the profile (which allows keeping
 *   unlisted attributes) and safe against identifiers in attributes nobody thought of.
 * - Patient Identity Removed (0012,0062) = YES, De-identification Method (0012,0063) and its code
 *   sequence (0012,0064: DCM 113100) are added.
 * - Burned-in Annotation (0028,0301) = YES is refused: the Basic Profile does not clean pixels.
 */
export interface DeidentifyOptions {
  /** Key of the UID-remapping hash (a server secret). */
  uidKey: string;
  /** Dummy value for Patient ID (and Patient Name): a pseudonym, never the MRN. */
  pseudonym: string;
}

/** Result of {@link deidentifyDicom}. */
export interface DeidentifiedDicom {
  bytes: Buffer;
  transferSyntaxUid: string;
  /** Tags removed, as `ggggeeee` (ids of attributes, not their values). */
  removed: string[];
}

type Action = 'Z' | 'D' | 'U' | 'X';

/** Table E.1-1 rows relevant to radiographs (tag `ggggeeee` → action). Everything else: see {@link RETAINED}. */
const BASIC_PROFILE_ACTIONS: Readonly<Record<string, Action>> = {
  '00080050': 'Z', // Accession Number
  '00080020': 'Z', // Study Date
  '00080030': 'Z', // Study Time
  '00080021': 'X', // Series Date
  '00080031': 'X', // Series Time
  '00080022': 'X', // Acquisition Date
  '00080032': 'X', // Acquisition Time
  '00080023': 'Z', // Content Date
  '00080033': 'Z', // Content Time
  '0008002a': 'X', // Acquisition DateTime
  '00080012': 'X', // Instance Creation Date
  '00080013': 'X', // Instance Creation Time
  '00080014': 'U', // Instance Creator UID
  '00080018': 'U', // SOP Instance UID
  '00080080': 'X', // Institution Name
  '00080081': 'X', // Institution Address
  '00081040': 'X', // Institutional Department Name
  '00080090': 'Z', // Referring Physician's Name
  '00080092': 'X', // Referring Physician's Address
  '00080094': 'X', // Referring Physician's Telephone Numbers
  '00081010': 'X', // Station Name
  '00081030': 'X', // Study Description
  '0008103e': 'X', // Series Description
  '00081048': 'X', // Physician(s) of Record
  '00081050': 'X', // Performing Physician's Name
  '00081060': 'X', // Name of Physician(s) Reading Study
  '00081070': 'X', // Operators' Name
  '00081080': 'X', // Admitting Diagnoses Description
  '00081155': 'U', // Referenced SOP Instance UID
  '00100010': 'Z', // Patient's Name (dummy written: see pseudonym)
  '00100020': 'D', // Patient ID
  '00100021': 'X', // Issuer of Patient ID
  '00100030': 'Z', // Patient's Birth Date
  '00100032': 'X', // Patient's Birth Time
  '00100040': 'Z', // Patient's Sex
  '00101000': 'X', // Other Patient IDs
  '00101001': 'X', // Other Patient Names
  '00101010': 'X', // Patient's Age
  '00101020': 'X', // Patient's Size
  '00101030': 'X', // Patient's Weight
  '00101040': 'X', // Patient's Address
  '00102154': 'X', // Patient's Telephone Numbers
  '00102160': 'X', // Ethnic Group
  '00104000': 'X', // Patient Comments
  '00181000': 'X', // Device Serial Number
  '00181030': 'X', // Protocol Name
  '00200010': 'Z', // Study ID
  '0020000d': 'U', // Study Instance UID
  '0020000e': 'U', // Series Instance UID
  '00200052': 'U', // Frame of Reference UID
  '00204000': 'X', // Image Comments
  '00321032': 'X', // Requesting Physician
  '00401001': 'X', // Requested Procedure ID
  '00400253': 'X', // Performed Procedure Step ID
  '00400244': 'X', // Performed Procedure Step Start Date
  '00400245': 'X', // Performed Procedure Step Start Time
  '00880140': 'U', // Storage Media File-set UID
  '30060024': 'U', // Referenced Frame of Reference UID
};

/** VRs of the attributes that get a `Z` or `D` value (needed when the source is Implicit VR). */
const ACTION_VRS: Readonly<Record<string, string>> = {
  '00080050': 'SH',
  '00080020': 'DA',
  '00080030': 'TM',
  '00080023': 'DA',
  '00080033': 'TM',
  '00080090': 'PN',
  '00100010': 'PN',
  '00100020': 'LO',
  '00100030': 'DA',
  '00100040': 'CS',
  '00200010': 'SH',
};

/** Standard attributes kept as they are (with their VR, used when the source is Implicit VR). */
const RETAINED: Readonly<Record<string, string>> = {
  '00080005': 'CS', // Specific Character Set
  '00080008': 'CS', // Image Type
  '00080016': 'UI', // SOP Class UID
  '00080060': 'CS', // Modality
  '00080064': 'CS', // Conversion Type
  '00080070': 'LO', // Manufacturer
  '00081090': 'LO', // Manufacturer's Model Name
  '00180015': 'CS', // Body Part Examined
  '00181164': 'DS', // Imager Pixel Spacing
  '00185101': 'CS', // View Position
  '00200011': 'IS', // Series Number
  '00200013': 'IS', // Instance Number
  '00200020': 'CS', // Patient Orientation
  '00200060': 'CS', // Laterality
  '00200062': 'CS', // Image Laterality
  '00280002': 'US', // Samples per Pixel
  '00280004': 'CS', // Photometric Interpretation
  '00280006': 'US', // Planar Configuration
  '00280008': 'IS', // Number of Frames
  '00280010': 'US', // Rows
  '00280011': 'US', // Columns
  '00280030': 'DS', // Pixel Spacing
  '00280100': 'US', // Bits Allocated
  '00280101': 'US', // Bits Stored
  '00280102': 'US', // High Bit
  '00280103': 'US', // Pixel Representation
  '00280301': 'CS', // Burned In Annotation
  '00281040': 'CS', // Pixel Intensity Relationship
  '00281041': 'SS', // Pixel Intensity Relationship Sign
  '00281050': 'DS', // Window Center
  '00281051': 'DS', // Window Width
  '00281052': 'DS', // Rescale Intercept
  '00281053': 'DS', // Rescale Slope
  '00281054': 'LO', // Rescale Type
  '00282110': 'CS', // Lossy Image Compression
  '00282112': 'DS', // Lossy Image Compression Ratio
  '00282114': 'CS', // Lossy Image Compression Method
  '20500020': 'CS', // Presentation LUT Shape
  '7fe00010': 'OW', // Pixel Data (OB when Bits Allocated <= 8)
};

const DEIDENTIFICATION_METHOD = 'PS3.15 E.1 Basic Application Level Confidentiality Profile';

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const SWAP: Record<string, number> = {
  US: 2,
  SS: 2,
  OW: 2,
  AT: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  OF: 4,
  OL: 4,
  FD: 8,
  OD: 8,
  SV: 8,
  UV: 8,
  OV: 8,
};
const TEXT_VRS_SPACE_PAD = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UT',
  'UR',
]);
const NATIVE = new Set([
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
]);

/** Remaps a UID with a keyed hash into the `2.25.<decimal of 128 bits>` form (PS3.5 B.2). */
export function remapUid(uid: string, key: string): string {
  const digest = createHmac('sha256', key)
    .update(`uid:${uid.replace(/\0/g, '').trim()}`)
    .digest();
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[0] = bytes[0]! & 0x7f; // keeps the number below 2^127, well inside 39 digits
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

/** The pixel budget of a de-identified copy when the caller names none (MAX_IMAGE_PIXELS's default). */
const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Rewrites a DICOM object under the Basic Profile; throws {@link ImageError} on unreadable input. A
 * deflated object is inflated within `maxPixels` (see parseDicomDataSet).
 */
export async function deidentifyDicom(
  buf: Uint8Array,
  opts: DeidentifyOptions,
  maxPixels = DEFAULT_MAX_PIXELS,
): Promise<DeidentifiedDicom> {
  const { dataSet, inferred } = await parseDicomDataSet(buf, maxPixels);
  const sourceTs = (dataSet.string('x00020010') ?? inferred ?? IMPLICIT_VR_LITTLE_ENDIAN)
    .replace(/\0/g, '')
    .trim();
  const bigEndian = sourceTs === EXPLICIT_VR_BIG_ENDIAN;
  const implicit = sourceTs === IMPLICIT_VR_LITTLE_ENDIAN;
  const native = NATIVE.has(sourceTs);
  const outTs = native ? EXPLICIT_VR_LITTLE_ENDIAN : sourceTs;
  if ((dataSet.string('x00280301') ?? '').trim().toUpperCase() === 'YES') {
    throw ImageError.unsupported('Burned In Annotation is YES: the Basic Profile cannot clean pixel data', {
      burnedInAnnotation: true,
    });
  }
  const bitsAllocated = dataSet.uint16('x00280100') ?? 16;
  const out = new Map<string, Buffer>();
  const removed: string[] = [];
  const bytes = dataSet.byteArray;

  for (const key of Object.keys(dataSet.elements).sort()) {
    const el = dataSet.elements[key]!;
    const tag = key.slice(1).toLowerCase();
    const group = parseInt(tag.slice(0, 4), 16);
    if (group === 0x0002) continue; // the meta group is written fresh
    if (group % 2 === 1) {
      removed.push(tag);
      continue;
    }
    const action = BASIC_PROFILE_ACTIONS[tag];
    const vr = implicit ? (RETAINED[tag] ?? ACTION_VRS[tag] ?? (action === 'U' ? 'UI' : undefined)) : el.vr;
    if (action === 'X' || (!action && !RETAINED[tag]) || vr === 'SQ' || el.items) {
      removed.push(tag);
      continue;
    }
    if (action === 'Z') {
      const value = tag === '00100010' ? text(opts.pseudonym) : Buffer.alloc(0);
      out.set(tag, encodeElement(tag, vr ?? ACTION_VRS[tag] ?? 'LO', value));
      continue;
    }
    if (action === 'D') {
      out.set(tag, encodeElement(tag, vr ?? 'LO', text(opts.pseudonym)));
      continue;
    }
    if (action === 'U') {
      const uid = dataSet.string(key);
      out.set(tag, encodeElement(tag, 'UI', uidValue(uid ? remapUid(uid, opts.uidKey) : '')));
      continue;
    }
    if (tag === '7fe00010') {
      if (el.encapsulatedPixelData || !native) {
        out.set(tag, encapsulated(dataSet, el));
      } else {
        const pvr = implicit ? (bitsAllocated > 8 ? 'OW' : 'OB') : (el.vr ?? 'OW');
        const raw = Buffer.from(bytes.subarray(el.dataOffset, el.dataOffset + el.length));
        out.set(tag, encodeElement(tag, pvr, bigEndian ? swap(raw, SWAP[pvr] ?? 1) : raw));
      }
      continue;
    }
    const v = vr ?? 'UN';
    const raw = Buffer.from(bytes.subarray(el.dataOffset, el.dataOffset + el.length));
    out.set(tag, encodeElement(tag, v, bigEndian && SWAP[v] ? swap(raw, SWAP[v]!) : raw));
  }

  markDeidentified(out, opts.pseudonym);

  const sopClass = (dataSet.string('x00080016') ?? dataSet.string('x00020002') ?? '').trim();
  const sourceSop = (dataSet.string('x00080018') ?? dataSet.string('x00020003') ?? '').trim();
  const newSop = remapUid(sourceSop || `${opts.pseudonym}:${bytes.length}`, opts.uidKey);
  out.set('00080018', encodeElement('00080018', 'UI', uidValue(newSop)));
  const meta = fileMetaInformation(sopClass, newSop, outTs);
  const body = [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, b]) => b);
  return {
    bytes: Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'ascii'), meta, ...body]),
    transferSyntaxUid: outTs,
    removed,
  };
}

/**
 * Patient Identity Removed, the method and its code sequence; the pseudonym as Patient ID and
 * Patient's Name when the source had none.
 */
function markDeidentified(out: Map<string, Buffer>, pseudonym: string): void {
  out.set('00120062', encodeElement('00120062', 'CS', text('YES')));
  out.set('00120063', encodeElement('00120063', 'LO', text(DEIDENTIFICATION_METHOD)));
  out.set('00120064', methodCodeSequence());
  if (!out.has('00100020')) out.set('00100020', encodeElement('00100020', 'LO', text(pseudonym)));
  if (!out.has('00100010')) out.set('00100010', encodeElement('00100010', 'PN', text(pseudonym)));
}

function text(s: string): Buffer {
  return Buffer.from(s, 'ascii');
}

function uidValue(uid: string): Buffer {
  return Buffer.from(uid, 'ascii');
}

function swap(raw: Buffer, size: number): Buffer {
  if (size <= 1) return raw;
  const outBuf = Buffer.alloc(raw.length);
  for (let i = 0; i + size <= raw.length; i += size) {
    for (let k = 0; k < size; k++) outBuf[i + k] = raw[i + size - 1 - k]!;
  }
  return outBuf;
}

function header(tag: string, vr: string, length: number): Buffer {
  const group = parseInt(tag.slice(0, 4), 16);
  const element = parseInt(tag.slice(4), 16);
  if (LONG_VRS.has(vr)) {
    const h = Buffer.alloc(12);
    h.writeUInt16LE(group, 0);
    h.writeUInt16LE(element, 2);
    h.write(vr, 4, 'ascii');
    h.writeUInt32LE(length, 8);
    return h;
  }
  if (length > 0xffff) throw ImageError.corrupt(`attribute ${tag} is too long for VR ${vr}`);
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write(vr, 4, 'ascii');
  h.writeUInt16LE(length, 6);
  return h;
}

/** One Explicit VR Little Endian element with its value padded to even length. */
function encodeElement(tag: string, vr: string, value: Buffer): Buffer {
  let v = value;
  if (v.length % 2 === 1) v = Buffer.concat([v, Buffer.from([TEXT_VRS_SPACE_PAD.has(vr) ? 0x20 : 0x00])]);
  return Buffer.concat([header(tag, vr, v.length), v]);
}

function item(content: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0);
  h.writeUInt16LE(0xe000, 2);
  h.writeUInt32LE(content.length, 4);
  return Buffer.concat([h, content]);
}

/** (0012,0064) with one item: DCM 113100 "Basic Application Confidentiality Profile". */
function methodCodeSequence(): Buffer {
  return encodeDataset([
    el(0x00120064, 'SQ', [
      [
        el(0x00080100, 'SH', '113100'),
        el(0x00080102, 'SH', 'DCM'),
        el(0x00080104, 'LO', 'Basic Application Confidentiality Profile'),
      ],
    ]),
  ]);
}

/** Encapsulated Pixel Data: the Basic Offset Table and fragments copied byte for byte. */
function encapsulated(ds: dicomParser.DataSet, el: dicomParser.Element): Buffer {
  if (!el.fragments) throw ImageError.corrupt('compressed Pixel Data without fragments');
  const parts: Buffer[] = [];
  const bot = Buffer.alloc((el.basicOffsetTable ?? []).length * 4);
  (el.basicOffsetTable ?? []).forEach((o, i) => bot.writeUInt32LE(o, i * 4));
  parts.push(item(bot));
  for (const f of el.fragments)
    parts.push(item(Buffer.from(ds.byteArray.subarray(f.position, f.position + f.length))));
  const h = Buffer.alloc(12);
  h.writeUInt16LE(0x7fe0, 0);
  h.writeUInt16LE(0x0010, 2);
  h.write('OB', 4, 'ascii');
  h.writeUInt32LE(0xffffffff, 8);
  const delim = Buffer.alloc(8);
  delim.writeUInt16LE(0xfffe, 0);
  delim.writeUInt16LE(0xe0dd, 2);
  return Buffer.concat([h, ...parts, delim]);
}

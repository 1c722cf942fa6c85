import { createInflateRaw } from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import { ImageError } from '../../errors/image-errors';
import type { DicomAttributes, DicomIdentifiers, VoiWindow } from '../image.types';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from './transfer-syntax';

/** A parsed DICOM data set (dicom-parser's type, kept inside the imaging folder). */
export type DicomDataSet = dicomParser.DataSet;

/** A Modality LUT from the Modality LUT Sequence (0028,3000): output = data[clamp(stored − firstMapped)]. */
export interface ModalityLut {
  firstMapped: number;
  data: Uint16Array;
}

/** Everything read from a DICOM header that the pixel decoder and the public result need. */
export interface DicomHeader {
  dataSet: DicomDataSet;
  attributes: DicomAttributes;
  identifiers: DicomIdentifiers;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  highBit: number;
  voi?: VoiWindow;
  modalityLut?: ModalityLut;
  hasRescale: boolean;
  /** True when the object has no File Meta Information and its transfer syntax was inferred. */
  inferredTransferSyntax: boolean;
}

const DICM_OFFSET = 128;

/** True when `buf` carries the Part 10 "DICM" prefix at byte 128. */
export function hasDicmPrefix(buf: Uint8Array): boolean {
  return (
    buf.length >= DICM_OFFSET + 4 &&
    buf[128] === 0x44 &&
    buf[129] === 0x49 &&
    buf[130] === 0x43 &&
    buf[131] === 0x4d
  );
}

function isUpper(b: number | undefined): boolean {
  return b !== undefined && b >= 0x41 && b <= 0x5a;
}

/**
 * Guesses the transfer syntax of a data set without File Meta Information (no preamble) from its
 * first element, or returns null when the bytes do not look like DICOM at all. The first tag must be
 * in group 0x0002 or 0x0008 (what every real object starts with); a two-letter upper-case VR after
 * the tag means explicit VR, and a big-endian group number means Explicit VR Big Endian.
 */
export function sniffRawDataSet(buf: Uint8Array): string | null {
  if (buf.length < 8) return null;
  const groupLe = buf[0]! | (buf[1]! << 8);
  const groupBe = (buf[0]! << 8) | buf[1]!;
  const explicitVr = isUpper(buf[4]) && isUpper(buf[5]);
  if (groupLe === 0x0008 || groupLe === 0x0002) {
    if (explicitVr) return EXPLICIT_VR_LITTLE_ENDIAN;
    return looksImplicit(buf) ? IMPLICIT_VR_LITTLE_ENDIAN : null;
  }
  if (groupBe === 0x0008 && explicitVr) return EXPLICIT_VR_BIG_ENDIAN;
  return null;
}

/** Walks the first three implicit-VR elements: even groups, ascending tags, lengths inside the buffer. */
function looksImplicit(buf: Uint8Array): boolean {
  let pos = 0;
  let lastTag = -1;
  for (let n = 0; n < 3 && pos + 8 <= buf.length; n++) {
    const group = buf[pos]! | (buf[pos + 1]! << 8);
    const element = buf[pos + 2]! | (buf[pos + 3]! << 8);
    const length = (buf[pos + 4]! | (buf[pos + 5]! << 8) | (buf[pos + 6]! << 16)) + buf[pos + 7]! * 0x1000000;
    const tag = group * 0x10000 + element;
    if (group % 2 !== 0 || tag <= lastTag || group > 0x0010) return false;
    if (length === 0xffffffff) return true;
    if (pos + 8 + length > buf.length) return false;
    lastTag = tag;
    pos += 8 + length;
  }
  return true;
}

/** Explicit VR whose length is 4 bytes after 2 reserved ones (PS3.5 7.1.2). */
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/**
 * Where the File Meta Information (group 0002, always Explicit VR Little Endian) of a Part 10 object
 * ends, found by reading each element's tag before its value. dicom-parser's `readPart10Header`
 * reads the element after the group in full before it looks at its tag: after a deflated
 * group those bytes are deflate output, and about one file in twenty (it depends on the UIDs)
 * looked like a sequence to it and failed the file as corrupt. Null when the group is malformed.
 */
function metaGroupEnd(buf: Uint8Array): number | null {
  let pos = DICM_OFFSET + 4;
  while (pos + 8 <= buf.length && (buf[pos]! | (buf[pos + 1]! << 8)) === 0x0002) {
    const vr = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!);
    let length: number;
    let headerBytes = 8;
    if (LONG_LENGTH_VRS.has(vr)) {
      if (pos + 12 > buf.length) return null;
      length = (buf[pos + 8]! | (buf[pos + 9]! << 8) | (buf[pos + 10]! << 16)) + buf[pos + 11]! * 0x1000000;
      headerBytes = 12;
    } else {
      length = buf[pos + 6]! | (buf[pos + 7]! << 8);
    }
    if (length === 0xffffffff || pos + headerBytes + length > buf.length) return null;
    pos += headerBytes + length;
  }
  return pos;
}

/** What a parse failure is, in the product's words (dicom-parser's own message stays in the cause). */
const DATA_SET_UNREADABLE = 'the DICOM data set ends early or its elements are malformed';

/** Most inflated bytes of a deflated data set read before its Pixel Data (the header) is found. */
const MAX_INFLATED_HEADER_BYTES = 8 * 1024 * 1024;

/** Bytes a deflated data set may hold beyond its header and the pixels it declares (padding, trailers). */
const INFLATED_SLACK_BYTES = 1024 * 1024;

const PIXEL_DATA = 'x7fe00010';

/** What the header of a (partly) inflated data set says, once its Pixel Data element is reached. */
interface HeaderProbe {
  /** Offset (in the whole object) where the pixel values start. */
  pixelOffset: number;
  /** Bytes of pixel data that rows, columns, samples, frames and bits allocated declare. */
  declaredPixelBytes: number;
  pixels: number;
  frames: number;
}

/** Reads the header of `full` (Part 10 bytes up to the data set + what is inflated so far), or null when incomplete. */
function probeHeader(full: Buffer): HeaderProbe | null {
  let ds: DicomDataSet;
  try {
    ds = dicomParser.parseDicom(full, {
      untilTag: PIXEL_DATA,
      inflater: (() => full) as unknown as dicomParser.ParseDicomOptions['inflater'],
    });
  } catch {
    return null;
  }
  const el = ds.elements[PIXEL_DATA];
  if (!el) return null;
  const u16 = (tag: string, fallback: number) => (ds.elements[tag] ? (ds.uint16(tag) ?? fallback) : fallback);
  const rows = u16('x00280010', 0);
  const columns = u16('x00280011', 0);
  const samples = Math.max(1, u16('x00280002', 1));
  const bitsAllocated = u16('x00280100', 16);
  const framesValue = ds.intString('x00280008');
  const frames =
    framesValue !== undefined && Number.isFinite(framesValue) && framesValue > 1 ? framesValue : 1;
  const bytesPerSample = Math.min(4, Math.max(1, Math.ceil(bitsAllocated / 8)));
  return {
    pixelOffset: el.dataOffset,
    declaredPixelBytes: rows * columns * samples * frames * bytesPerSample,
    pixels: rows * columns,
    frames,
  };
}

/**
 * Inflates the deflated data set after the File Meta Information (`position`) without ever holding
 * more than the pixel budget allows, on the zlib thread pool, in pieces: first only as far as the
 * Pixel Data element (at most {@link MAX_INFLATED_HEADER_BYTES}), whose rows × columns are checked
 * against `maxPixels` (IMAGE_TOO_LARGE, multi-frame refused) before anything else is inflated; then
 * the rest, capped at what that header declares (CORRUPT_IMAGE beyond it). `headerOnly` stops once
 * the header is read, before any check (identity reads name even a refused instance). Regression: a 777 KB deflate bomb was inflated synchronously up to
 * 4 × MAX_UPLOAD_BYTES and then copied (1.3 → 3.9 GB, the event loop blocked 5.6 s).
 */
async function inflateDataSet(
  bytes: Buffer,
  position: number,
  maxPixels: number,
  headerOnly: boolean,
): Promise<Buffer> {
  const prefix = bytes.subarray(0, position);
  const chunks: Buffer[] = [];
  let inflated = 0;
  let header: HeaderProbe | null = null;
  let nextProbe = 16 * 1024;
  let limit = MAX_INFLATED_HEADER_BYTES;
  const whole = () => Buffer.concat([prefix, ...chunks], position + inflated);
  return new Promise<Buffer>((resolve, reject) => {
    const inflater = createInflateRaw({ chunkSize: 64 * 1024 });
    let settled = false;
    const finish = (error: Error | null, value?: Buffer) => {
      if (settled) return;
      settled = true;
      inflater.destroy();
      if (error) reject(error);
      else resolve(value!);
    };
    /** Reads the header once enough is inflated; false when inflation must stop (refused or enough). */
    const checkHeader = (atEnd: boolean): boolean => {
      if (header || (!atEnd && inflated < nextProbe)) return true;
      nextProbe = inflated * 2;
      header = probeHeader(whole());
      if (!header) return true;
      if (headerOnly) {
        finish(null, whole());
        return false;
      }
      if (header.frames > 1) {
        finish(ImageError.multiFrame(header.frames));
        return false;
      }
      if (header.pixels > maxPixels) {
        finish(ImageError.tooLarge(header.pixels, maxPixels));
        return false;
      }
      limit = header.pixelOffset - position + header.declaredPixelBytes + INFLATED_SLACK_BYTES;
      return true;
    };
    inflater.on('data', (chunk: Buffer) => {
      if (settled) return;
      chunks.push(chunk);
      inflated += chunk.length;
      if (!checkHeader(false)) return;
      if (inflated > limit)
        finish(
          header
            ? ImageError.corrupt('the deflated data set inflates beyond what its header declares')
            : ImageError.corrupt(
                `the deflated data set has no pixel data within its first ${MAX_INFLATED_HEADER_BYTES} bytes`,
              ),
        );
    });
    inflater.on('end', () => {
      if (settled || !checkHeader(true)) return;
      finish(null, whole());
    });
    inflater.on('error', (e) => finish(ImageError.corrupt('the deflated data set cannot be inflated', e)));
    inflater.end(bytes.subarray(position));
  });
}

/**
 * Parses a DICOM object (Part 10 or a bare data set). A deflated data set is inflated within the
 * pixel budget ({@link inflateDataSet}: the header's rows × columns are checked against `maxPixels`
 * before the pixels are inflated, and nothing beyond what the header declares is). `headerOnly`
 * stops at the Pixel Data element (its header is kept, its value is not read).
 */
export async function parseDicomDataSet(
  buf: Uint8Array,
  maxPixels: number,
  headerOnly = false,
): Promise<{ dataSet: DicomDataSet; inferred?: string }> {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let inferred: string | undefined;
  let parseFrom: Buffer = bytes;
  const options: dicomParser.ParseDicomOptions = {};
  if (headerOnly) options.untilTag = PIXEL_DATA;
  if (!hasDicmPrefix(bytes)) {
    const guessed = sniffRawDataSet(bytes);
    if (!guessed) throw ImageError.corrupt('no DICM prefix and no recognisable data set');
    options.TransferSyntaxUID = guessed;
    inferred = guessed;
  } else {
    const end = metaGroupEnd(bytes);
    if (end === null) throw ImageError.corrupt('the DICOM File Meta Information is malformed');
    let meta: DicomDataSet;
    try {
      // Only the group itself: what follows may be deflate output (see metaGroupEnd).
      meta = dicomParser.readPart10Header(bytes.subarray(0, end));
    } catch (e) {
      throw ImageError.corrupt(DATA_SET_UNREADABLE, e);
    }
    const syntax = (meta.string('x00020010') ?? '').replace(/\0/g, '').trim();
    if (syntax === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
      const full = await inflateDataSet(bytes, end, maxPixels, headerOnly);
      // dicom-parser's typings declare the inflater as returning void; it actually uses the returned bytes.
      options.inflater = (() => full) as unknown as dicomParser.ParseDicomOptions['inflater'];
      // Parsed from the inflated object: parseDicom reads the File Meta Information again, and the
      // deflated bytes after it would trip it as above.
      parseFrom = full;
    }
  }
  try {
    return { dataSet: dicomParser.parseDicom(parseFrom, options), inferred };
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw ImageError.corrupt(DATA_SET_UNREADABLE, e);
  }
}

function str(ds: DicomDataSet, tag: string): string | undefined {
  const v = ds.string(tag);
  return v === undefined || v === '' ? undefined : v;
}

function num(ds: DicomDataSet, tag: string, index = 0): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const v = ds.floatString(tag, index);
  return v === undefined || !Number.isFinite(v) ? undefined : v;
}

function us(ds: DicomDataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return undefined;
  return ds.uint16(tag);
}

function readModalityLut(ds: DicomDataSet, pixelRepresentation: number): ModalityLut | undefined {
  const seq = ds.elements['x00283000'];
  const item = seq?.items?.[0]?.dataSet;
  if (!item) return undefined;
  const desc = item.elements['x00283002'];
  const dataEl = item.elements['x00283006'];
  if (!desc || !dataEl || desc.length < 6)
    throw ImageError.corrupt('the Modality LUT Sequence lacks its descriptor or data');
  let entries = item.uint16('x00283002', 0) ?? 0;
  if (entries === 0) entries = 65536;
  const firstRaw = item.uint16('x00283002', 1) ?? 0;
  const firstMapped = pixelRepresentation === 1 && firstRaw > 0x7fff ? firstRaw - 0x10000 : firstRaw;
  const bitsPerEntry = item.uint16('x00283002', 2) ?? 16;
  const data = new Uint16Array(entries);
  if (dataEl.length >= entries * 2) {
    for (let i = 0; i < entries; i++) data[i] = item.uint16('x00283006', i) ?? 0;
  } else if (bitsPerEntry === 8 && dataEl.length >= entries) {
    for (let i = 0; i < entries; i++) data[i] = item.byteArray[dataEl.dataOffset + i]!;
  } else {
    throw ImageError.corrupt('the Modality LUT data is shorter than its descriptor');
  }
  return { firstMapped, data };
}

/**
 * Reads the attributes, identifiers and pixel-module values of a parsed data set. The one place
 * that knows DICOM tags; it never decodes pixels. VOI: the first Window Center/Width value is used;
 * a VOI LUT Sequence (0028,3010) is deliberately not applied (display falls back to min..max when
 * no window is present), so display and model input stay a linear function of modality values.
 */
export function readDicomHeader(dataSet: DicomDataSet, inferredTransferSyntax?: string): DicomHeader {
  const ds = dataSet;
  const transferSyntaxUid = inferredTransferSyntax ?? str(ds, 'x00020010') ?? IMPLICIT_VR_LITTLE_ENDIAN;
  const bitsAllocated = us(ds, 'x00280100') ?? 0;
  const bitsStored = us(ds, 'x00280101') ?? bitsAllocated;
  const pixelRepresentation = us(ds, 'x00280103') ?? 0;
  const slope = num(ds, 'x00281053');
  const intercept = num(ds, 'x00281052');
  const frames = ds.intString('x00280008');
  const spacing = ds.elements['x00280030'] ? 'x00280030' : ds.elements['x00181164'] ? 'x00181164' : undefined;
  const sr = spacing ? num(ds, spacing, 0) : undefined;
  const sc = spacing ? num(ds, spacing, 1) : undefined;
  const center = num(ds, 'x00281050');
  const width = num(ds, 'x00281051');
  const attributes: DicomAttributes = {
    transferSyntaxUid,
    sopClassUid: str(ds, 'x00080016'),
    sopInstanceUid: str(ds, 'x00080018'),
    studyInstanceUid: str(ds, 'x0020000d'),
    seriesInstanceUid: str(ds, 'x0020000e'),
    modality: str(ds, 'x00080060'),
    bodyPartExamined: str(ds, 'x00180015'),
    viewPosition: str(ds, 'x00185101'),
    imageLaterality: str(ds, 'x00200062') ?? str(ds, 'x00200060'),
    photometricInterpretation: (str(ds, 'x00280004') ?? '').toUpperCase(),
    bitsAllocated,
    bitsStored,
    pixelRepresentation,
    rescaleSlope: slope ?? 1,
    rescaleIntercept: intercept ?? 0,
    windowCenter: center,
    windowWidth: width,
    manufacturer: str(ds, 'x00080070'),
    numberOfFrames: frames !== undefined && Number.isFinite(frames) && frames > 0 ? frames : 1,
    pixelSpacing: sr !== undefined && sc !== undefined ? [sr, sc] : undefined,
  };
  const identifiers: DicomIdentifiers = {
    patientId: str(ds, 'x00100020'),
    patientName: str(ds, 'x00100010'),
    patientBirthDate: str(ds, 'x00100030'),
    patientSex: str(ds, 'x00100040'),
    accessionNumber: str(ds, 'x00080050'),
    studyDate: str(ds, 'x00080020'),
  };
  return {
    dataSet: ds,
    attributes,
    identifiers,
    rows: us(ds, 'x00280010') ?? 0,
    columns: us(ds, 'x00280011') ?? 0,
    samplesPerPixel: us(ds, 'x00280002') ?? 1,
    highBit: us(ds, 'x00280102') ?? bitsStored - 1,
    voi: center !== undefined && width !== undefined && width > 0 ? { center, width } : undefined,
    modalityLut: readModalityLut(ds, pixelRepresentation),
    hasRescale: slope !== undefined || intercept !== undefined,
    inferredTransferSyntax: inferredTransferSyntax !== undefined,
  };
}

/** Re-exported transfer syntax constant for callers that build test data. */
export { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN };

/**
 * What names a DICOM instance and places it, read without decoding pixels: its UIDs, and the
 * patient, accession, body part and view it claims (PHI: never log them).
 */
export interface DicomIdentity {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  patientId?: string;
  /** Issuer of Patient ID (0010,0021). */
  issuerOfPatientId?: string;
  accessionNumber?: string;
  bodyPartExamined?: string;
  viewPosition?: string;
}

/**
 * Reads the SOP Class, SOP Instance and Study Instance UIDs of a DICOM object, or returns null when
 * its header cannot be parsed. Used to name an instance in a STOW-RS failure even when it cannot be
 * decoded (truncated pixel data, unsupported syntax). Reads the header only: a deflated object is
 * inflated no further than its Pixel Data element.
 */
export async function readDicomIdentity(buf: Uint8Array, maxPixels: number): Promise<DicomIdentity | null> {
  try {
    const { dataSet } = await parseDicomDataSet(buf, maxPixels, true);
    return {
      sopClassUid: str(dataSet, 'x00080016'),
      sopInstanceUid: str(dataSet, 'x00080018'),
      studyInstanceUid: str(dataSet, 'x0020000d'),
      patientId: str(dataSet, 'x00100020'),
      issuerOfPatientId: str(dataSet, 'x00100021'),
      accessionNumber: str(dataSet, 'x00080050'),
      bodyPartExamined: str(dataSet, 'x00180015'),
      viewPosition: str(dataSet, 'x00185101'),
    };
  } catch {
    return null;
  }
}

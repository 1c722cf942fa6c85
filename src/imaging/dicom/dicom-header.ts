import { inflateRawSync } from 'node:zlib';
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

function parserMessage(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'exception' in e)
    return parserMessage((e as { exception: unknown }).exception);
  return 'unreadable DICOM data set';
}

/**
 * Parses a DICOM object (Part 10 or a bare data set). Deflated data sets are inflated with a cap of
 * `maxInflatedBytes`, so a deflate bomb is refused instead of exhausting memory. `headerOnly` stops
 * at the Pixel Data element (its header is kept, its value is not read).
 */
export function parseDicomDataSet(
  buf: Uint8Array,
  maxInflatedBytes: number,
  headerOnly = false,
): { dataSet: DicomDataSet; inferred?: string } {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let inferred: string | undefined;
  const inflater = (b: Uint8Array, position: number): Uint8Array => {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(b.subarray(position), { maxOutputLength: maxInflatedBytes });
    } catch (e) {
      throw ImageError.corrupt('the deflated data set cannot be inflated within the size limit', e);
    }
    const full = Buffer.alloc(position + inflated.length);
    full.set(b.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };
  // dicom-parser's typings declare the inflater as returning void; it actually uses the returned bytes.
  const options: dicomParser.ParseDicomOptions = {
    inflater: inflater as unknown as dicomParser.ParseDicomOptions['inflater'],
  };
  if (headerOnly) options.untilTag = 'x7fe00010';
  if (!hasDicmPrefix(bytes)) {
    const guessed = sniffRawDataSet(bytes);
    if (!guessed) throw ImageError.corrupt('no DICM prefix and no recognisable data set');
    options.TransferSyntaxUID = guessed;
    inferred = guessed;
  }
  try {
    return { dataSet: dicomParser.parseDicom(bytes, options), inferred };
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw ImageError.corrupt(parserMessage(e), e);
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

/** The UIDs that name a DICOM instance, read without decoding pixels. */
export interface DicomIdentity {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
}

/**
 * Reads the SOP Class, SOP Instance and Study Instance UIDs of a DICOM object, or returns null when
 * its header cannot be parsed. Used to name an instance in a STOW-RS failure even when it cannot be
 * decoded (truncated pixel data, unsupported syntax).
 */
export function readDicomIdentity(buf: Uint8Array, maxInflatedBytes: number): DicomIdentity | null {
  try {
    const { dataSet } = parseDicomDataSet(buf, maxInflatedBytes, true);
    return {
      sopClassUid: str(dataSet, 'x00080016'),
      sopInstanceUid: str(dataSet, 'x00080018'),
      studyInstanceUid: str(dataSet, 'x0020000d'),
    };
  } catch {
    return null;
  }
}

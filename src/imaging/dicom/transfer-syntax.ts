/**
 * The DICOM transfer syntaxes the intake knows, and which pixel codec handles each. This table is
 * the one place that maps a UID to a decoder; `decodeDicom` dispatches on `codec`.
 */
export type PixelCodec =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'unsupported';

/** What the intake knows about one transfer syntax. */
export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  codec: PixelCodec;
  /** Whether the pixels of the syntax are bit-exact (reference comparisons must then match exactly). */
  lossless: boolean;
  /** Explicit VR Big Endian: native 16-bit samples must be byte-swapped. */
  bigEndian?: boolean;
}

const TABLE: readonly TransferSyntaxInfo[] = [
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', codec: 'native', lossless: true },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', codec: 'native', lossless: true },
  {
    uid: '1.2.840.10008.1.2.1.99',
    name: 'Deflated Explicit VR Little Endian',
    codec: 'native',
    lossless: true,
  },
  {
    uid: '1.2.840.10008.1.2.2',
    name: 'Explicit VR Big Endian',
    codec: 'native',
    lossless: true,
    bigEndian: true,
  },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', codec: 'rle', lossless: true },
  {
    uid: '1.2.840.10008.1.2.4.50',
    name: 'JPEG Baseline (Process 1)',
    codec: 'jpeg-baseline',
    lossless: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.51',
    name: 'JPEG Extended (Process 2 and 4)',
    codec: 'jpeg-extended',
    lossless: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.57',
    name: 'JPEG Lossless, Non-Hierarchical (Process 14)',
    codec: 'jpeg-lossless',
    lossless: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.70',
    name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
    codec: 'jpeg-lossless',
    lossless: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.80',
    name: 'JPEG-LS Lossless Image Compression',
    codec: 'jpeg-ls',
    lossless: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.81',
    name: 'JPEG-LS Lossy (Near-Lossless) Image Compression',
    codec: 'jpeg-ls',
    lossless: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.90',
    name: 'JPEG 2000 Image Compression (Lossless Only)',
    codec: 'jpeg-2000',
    lossless: true,
  },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000 Image Compression', codec: 'jpeg-2000', lossless: false },
  {
    uid: '1.2.840.10008.1.2.4.201',
    name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)',
    codec: 'jpeg-2000',
    lossless: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.202',
    name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)',
    codec: 'jpeg-2000',
    lossless: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.203',
    name: 'High-Throughput JPEG 2000 Image Compression',
    codec: 'jpeg-2000',
    lossless: false,
  },
];

const BY_UID = new Map(TABLE.map((t) => [t.uid, t]));

/** Implicit VR Little Endian, the default when a file has no File Meta Information. */
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
/** Explicit VR Little Endian. */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Explicit VR Big Endian (retired, still met in archives). */
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
/** Deflated Explicit VR Little Endian. */
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

/** Looks a transfer syntax up; unknown UIDs (MPEG, JPIP, JPEG XL...) come back as `unsupported`. */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo {
  return BY_UID.get(uid) ?? { uid, name: uid, codec: 'unsupported', lossless: false };
}

/** Human name of a transfer syntax UID (the UID itself when unknown). */
export function transferSyntaxName(uid: string): string {
  return transferSyntaxInfo(uid).name;
}

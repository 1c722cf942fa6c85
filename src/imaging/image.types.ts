/** Container formats the intake accepts, detected from magic bytes (never from a file name). */
export type ImageFormat = 'PNG' | 'JPEG' | 'DICOM';

/** Limits applied before any pixel is decompressed: upload size and decoded pixel count. */
export interface ImageLimits {
  /** Largest accepted upload in bytes (`UPLOAD_TOO_LARGE` above). */
  maxBytes: number;
  /** Largest accepted rows × columns (`IMAGE_TOO_LARGE` above), checked from the header before decoding. */
  maxPixels: number;
}

/** The DICOM attributes the product needs to interpret or audit pixels. Holds no PHI. */
export interface DicomAttributes {
  transferSyntaxUid: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  modality?: string;
  bodyPartExamined?: string;
  viewPosition?: string;
  imageLaterality?: string;
  photometricInterpretation: string;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter?: number;
  windowWidth?: number;
  manufacturer?: string;
  numberOfFrames: number;
  /** Row spacing then column spacing, in mm (Pixel Spacing, else Imager Pixel Spacing). */
  pixelSpacing?: [number, number];
}

/** Identifiers read from DICOM for matching patients/studies at ingestion — PHI: never log them. */
export interface DicomIdentifiers {
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;
  accessionNumber?: string;
  studyDate?: string;
}

/** A VOI window (DICOM Window Center / Window Width). */
export interface VoiWindow {
  center: number;
  width: number;
}

/** One grayscale radiograph, decoded once and in one place, ready for display or preprocessing. */
export interface DecodedImage {
  format: ImageFormat;
  width: number;
  height: number;
  /** Significant bits per sample in the file (8 or 16 for PNG/JPEG, Bits Stored for DICOM). */
  bitsStored: number;
  /** MONOCHROME1 | MONOCHROME2 | RGB; colour PNG/JPEG are reduced to luminance but this says what the file was. */
  photometric: string;
  transferSyntaxUid?: string;
  /** One channel, row-major, after the modality LUT, before windowing, not inverted. */
  pixels: Float32Array;
  /** Window from the file (first value when multi-valued); a VOI LUT Sequence is not applied. */
  voi?: VoiWindow;
  /** True for MONOCHROME1: low values display bright. */
  invert: boolean;
  /**
   * Colour files only: mean |R−G| + |G−B| in 8-bit units at 64×64. 0 for a grey image stored as RGB (every
   * radiograph seen), over 10 for colour photographs; see `COLOUR_CHROMA_LIMIT`.
   */
  chroma?: number;
  dicom?: DicomAttributes;
  identifiers?: DicomIdentifiers;
}

/**
 * A file decoded in full (so it is known to be readable) described without its pixels: what intake
 * records and DICOM ingestion maps. Small enough to cross a thread boundary.
 */
export type DecodedImageInfo = Omit<DecodedImage, 'pixels'>;

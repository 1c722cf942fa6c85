import { hasDicmPrefix, sniffRawDataSet } from './dicom/dicom-header';
import type { ImageFormat } from './image.types';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Detects the container from magic bytes: PNG signature, JPEG SOI + marker, DICOM "DICM" at byte 128,
 * or a DICOM data set without preamble (first element in group 0002/0008, implicit or explicit VR).
 * Returns null for anything else. Never trusts a file name or a declared MIME type.
 */
export function detectFormat(buf: Uint8Array): ImageFormat | null {
  if (buf.length >= 8 && PNG_MAGIC.every((b, i) => buf[i] === b)) return 'PNG';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'JPEG';
  if (hasDicmPrefix(buf)) return 'DICOM';
  if (sniffRawDataSet(buf)) return 'DICOM';
  return null;
}

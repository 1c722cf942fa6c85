import { createHash } from 'node:crypto';

/** Valid DICOM UID syntax: dot-separated numbers without leading zeros, at most 64 characters. */
export const DICOM_UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/**
 * A UID under `root` derived from `seed`: the same seed always gives the same UID, so exporting the
 * same result twice names the same object (the PACS keeps one copy). Under the UUID root `2.25` the
 * suffix is a version-8 UUID as an integer (PS3.5 B.2); under an organisation root it is 128 hash bits.
 */
export function deriveUid(root: string, seed: string): string {
  const h = createHash('sha256').update(seed).digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x80; // UUID version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const suffix = BigInt(`0x${h.toString('hex')}`).toString(10);
  const uid = `${root}.${suffix}`;
  if (uid.length > 64 || !DICOM_UID_PATTERN.test(uid)) throw new RangeError('UID root too long or invalid');
  return uid;
}

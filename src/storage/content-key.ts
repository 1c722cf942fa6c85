import { createHash } from 'node:crypto';

import { assertValidObjectKey } from './object-store';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const PREFIX = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/;
const EXTENSION = /^[a-z0-9]{1,16}$/;

/** Lower-case hex SHA-256 of a buffer. */
export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * The storage key of content with digest `sha256hex`, e.g.
 * `contentAddressedKey('images', 'abcdef…', 'dcm')` → `images/sha256/ab/cd/abcdef….dcm`.
 * Keys are derived from bytes only, so they never carry names, MRNs or dates, and storing the same
 * bytes twice lands on the same key (which makes `put` naturally idempotent). The two fan-out levels
 * keep any one directory small on the filesystem store.
 *
 * `prefix`: lower-case segments (`images`, `heatmaps/v2`); `ext`: 1-16 lower-case alphanumerics, no dot.
 * Throws `TypeError` on malformed input: callers pass constants and computed digests, never user input.
 */
export function contentAddressedKey(prefix: string, sha256hex: string, ext: string): string {
  if (!PREFIX.test(prefix))
    throw new TypeError('contentAddressedKey: prefix must be lower-case segments like "images"');
  if (!SHA256_HEX.test(sha256hex))
    throw new TypeError('contentAddressedKey: digest must be 64 lower-case hex characters');
  if (!EXTENSION.test(ext))
    throw new TypeError('contentAddressedKey: ext must be 1-16 lower-case alphanumerics without a dot');
  const key = `${prefix}/sha256/${sha256hex.slice(0, 2)}/${sha256hex.slice(2, 4)}/${sha256hex}.${ext}`;
  assertValidObjectKey(key);
  return key;
}

import { InvalidObjectKeyError } from './storage-errors';

/** Options stored with an object. `metadata` must hold ids only, never PHI: S3 sends it as plain headers. */
export interface PutObjectOptions {
  /** MIME type returned by `stat` and by presigned downloads, e.g. `application/dicom`; default {@link DEFAULT_CONTENT_TYPE}. */
  contentType?: string;
  /** User metadata (S3 `x-amz-meta-*`): lower-case ASCII keys, ASCII values. */
  metadata?: Record<string, string>;
}

/** What `stat` reports about an existing object. */
export interface ObjectStat {
  /** Size in bytes. */
  size: number;
  /** MIME type given at `put`; both stores report {@link DEFAULT_CONTENT_TYPE} when none was. */
  contentType?: string;
}

/** Content type of an object stored without one (the S3 default). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * Blob storage for images, heat maps and model artefacts. The filesystem and MinIO adapters both pass
 * the shared contract suite (`test/integration/storage-object-store.test.ts`), so a service never
 * needs to know which one it has.
 *
 * Keys follow {@link assertValidObjectKey}; a broken key throws {@link InvalidObjectKeyError}.
 * Infrastructure failures throw `StorageUnavailableError` with the low-level error as `cause`.
 */
export interface ObjectStore {
  /**
   * Stores `data` under `key`, replacing any previous object. Atomic: a concurrent reader sees the old
   * object or the new one, never a part. Idempotent: writing the same bytes again is harmless, and
   * concurrent writes of the same key and bytes all succeed.
   */
  put(key: string, data: Buffer, opts?: PutObjectOptions): Promise<void>;
  /** Reads a whole object. Throws `ObjectNotFoundError` when it does not exist. */
  get(key: string): Promise<Buffer>;
  /** Size and type of an object, or `null` when it does not exist. */
  stat(key: string): Promise<ObjectStat | null>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Keys that start with `prefix` (plain string prefix, as in S3, not a directory), sorted. `prefix`
   * may be empty and may end with `/`; otherwise it follows the key rules.
   */
  list(prefix: string): Promise<string[]>;
  /**
   * A time-limited URL a browser can GET the object from, or `null` when the store has no URLs of its
   * own (filesystem: the API serves those objects itself). Does not check that the object exists.
   */
  getUrl(key: string, ttlSeconds: number): Promise<string | null>;
  /** Resolves when the store is usable; throws `StorageUnavailableError` otherwise. */
  health(): Promise<void>;
}

/** Longest key accepted, in characters (all ASCII, so also bytes). */
export const MAX_OBJECT_KEY_LENGTH = 512;

/**
 * Longest `/`-separated segment accepted. Filesystems (and MinIO, which stores objects as files) cap a
 * name at 255 bytes; the filesystem store's temp and sidecar names add up to 52 characters to a segment.
 */
export const MAX_OBJECT_KEY_SEGMENT_LENGTH = 200;

const KEY_CHARS = /^[A-Za-z0-9._/-]+$/;

/**
 * Checks the key rules shared by every store: only `[A-Za-z0-9._/-]`, 1..512 characters, no leading
 * `/`, no `..` anywhere, no empty segment (`a//b`, trailing `/`), no `.` segment, no segment over
 * {@link MAX_OBJECT_KEY_SEGMENT_LENGTH} characters. The segment rules keep the stores equivalent: a
 * filesystem would silently fold `a//b` and `a/./b` into `a/b` (S3 would not) and refuses long names.
 * Throws {@link InvalidObjectKeyError}.
 */
export function assertValidObjectKey(key: string): void {
  checkKeyOrPrefix(key, false);
}

/** Checks a `list` prefix: empty, or the key rules with an optional trailing `/`. */
export function assertValidObjectPrefix(prefix: string): void {
  if (prefix === '') return;
  checkKeyOrPrefix(prefix, true);
}

function checkKeyOrPrefix(key: string, isPrefix: boolean): void {
  if (typeof key !== 'string' || key.length === 0) throw InvalidObjectKeyError.because('empty', 0);
  if (key.length > MAX_OBJECT_KEY_LENGTH) throw InvalidObjectKeyError.because('too long', key.length);
  if (!KEY_CHARS.test(key))
    throw InvalidObjectKeyError.because('characters outside [A-Za-z0-9._/-]', key.length);
  if (key.startsWith('/')) throw InvalidObjectKeyError.because('leading slash', key.length);
  if (key.includes('..')) throw InvalidObjectKeyError.because('contains ..', key.length);
  const segments = key.split('/');
  if (isPrefix && segments[segments.length - 1] === '') segments.pop();
  for (const segment of segments) {
    if (segment === '') throw InvalidObjectKeyError.because('empty path segment', key.length);
    if (segment === '.') throw InvalidObjectKeyError.because('"." path segment', key.length);
    if (segment.length > MAX_OBJECT_KEY_SEGMENT_LENGTH)
      throw InvalidObjectKeyError.because('path segment too long', key.length);
  }
}

const METADATA_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const HEADER_VALUE = /^[\x20-\x7e]*$/;
/** S3 caps user metadata at 2 KiB (names plus values). */
const MAX_METADATA_BYTES = 2048;

/**
 * Checks `put` options before any I/O, so a bad value fails the same way on every store instead of
 * surfacing as a transport error from S3: metadata names are lower-case `[a-z0-9-]` (at most 64), values
 * and the content type printable ASCII, and metadata at most 2 KiB in all. Throws `TypeError`
 * (a programming error: options are built by services, not taken from requests).
 */
export function assertValidPutOptions(opts: PutObjectOptions): void {
  if (opts.contentType !== undefined && (opts.contentType === '' || !HEADER_VALUE.test(opts.contentType))) {
    throw new TypeError('contentType must be non-empty printable ASCII');
  }
  let bytes = 0;
  for (const [name, value] of Object.entries(opts.metadata ?? {})) {
    if (!METADATA_NAME.test(name)) throw new TypeError('metadata names must match [a-z0-9][a-z0-9-]{0,63}');
    if (typeof value !== 'string' || !HEADER_VALUE.test(value))
      throw new TypeError('metadata values must be printable ASCII');
    bytes += name.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) throw new TypeError(`metadata must not exceed ${MAX_METADATA_BYTES} bytes`);
}

/** Longest presigned-URL lifetime S3 accepts (7 days); the same bound applies to every store. */
const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;

/** Throws `RangeError` unless `ttlSeconds` is a whole number in 1..{@link MAX_URL_TTL_SECONDS}. */
export function assertTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_URL_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer between 1 and ${MAX_URL_TTL_SECONDS}`);
  }
}

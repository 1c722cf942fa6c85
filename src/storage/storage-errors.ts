import { AppError } from '../errors/app-error';

/**
 * Errors raised by {@link ObjectStore} implementations. Details carry object keys only; keys are
 * content-addressed (see `content-key.ts`) and so never hold names, MRNs or dates.
 */

/** The requested object does not exist in the store. */
export class ObjectNotFoundError extends AppError {
  readonly code = 'OBJECT_NOT_FOUND' as const;
  override readonly httpStatus = 404;

  /** Builds the error for one missing key. */
  static of(key: string, cause?: unknown): ObjectNotFoundError {
    return new ObjectNotFoundError('Object not found', { key }, { cause });
  }
}

/** The object store cannot be reached or refused the operation (network, permissions, disk, missing bucket). */
export class StorageUnavailableError extends AppError {
  readonly code = 'STORAGE_UNAVAILABLE' as const;
  override readonly httpStatus = 503;

  /** Wraps a low-level failure of `operation` on `driver`, keeping it as `cause`. */
  static wrap(
    driver: 'fs' | 'minio',
    operation: string,
    cause: unknown,
    details: { key?: string; s3Code?: string } = {},
  ): StorageUnavailableError {
    return new StorageUnavailableError(
      `Object storage is unavailable (${driver} ${operation})`,
      { driver, operation, ...details },
      { cause },
    );
  }
}

/**
 * A key broke the key rules. This is a programming error (keys are built by `contentAddressedKey`,
 * never taken from a request), hence HTTP 500; the offending key is not echoed because it may hold
 * anything, PHI included.
 */
export class InvalidObjectKeyError extends AppError {
  readonly code = 'INVALID_OBJECT_KEY' as const;
  override readonly httpStatus = 500;

  /** Builds the error for a key that breaks `rule`. */
  static because(rule: string, length: number): InvalidObjectKeyError {
    return new InvalidObjectKeyError(`Invalid object key: ${rule}`, { rule, length });
  }
}

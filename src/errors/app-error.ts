/**
 * Domain error tree. Every error the product raises on purpose is an {@link AppError} with a literal,
 * stable `code`; `formatError` maps the code to GraphQL `extensions.code` in exactly one place.
 * `details` holds ids and limits only, never PHI (names, MRNs, dates of birth).
 */
export type ErrorDetails = Record<string, string | number | boolean | null | undefined | string[]>;

/** Base class of every deliberate error. */
export abstract class AppError extends Error {
  /** Stable machine-readable code, surfaced as `extensions.code`. */
  abstract readonly code: string;
  /** HTTP status used when the error answers a plain HTTP request (uploads, health). */
  readonly httpStatus: number = 400;

  constructor(
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A referenced record does not exist (or the caller may not know it exists). */
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND' as const;
  override readonly httpStatus = 404;
  /** The id is echoed only when it has the shape of a record id: a client may send anything (even PHI) as an id. */
  static of(entity: string, id: string | number): NotFoundError {
    const echoed = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(String(id))
      ? { id: String(id) }
      : {};
    return new NotFoundError(`${entity} not found`, { entity, ...echoed });
  }
}

/** The request carries no valid credentials. */
export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED' as const;
  override readonly httpStatus = 401;
}

/** The caller is authenticated but its role may not do this. */
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN' as const;
  override readonly httpStatus = 403;
}

/** Arguments failed validation at the edge. */
export class ValidationError extends AppError {
  readonly code = 'BAD_USER_INPUT' as const;
}

/** A unique constraint (MRN, accession number, e-mail) would be violated. */
export class ConflictError extends AppError {
  readonly code = 'CONFLICT' as const;
  override readonly httpStatus = 409;
}

/** The operation is not allowed in the record's current state (e.g. analysing a study with no images). */
export class InvalidStateError extends AppError {
  readonly code = 'INVALID_STATE' as const;
  override readonly httpStatus = 409;
}

/** A query exceeded the depth or cost limit. */
export class QueryTooComplexError extends AppError {
  readonly code = 'QUERY_TOO_COMPLEX' as const;
}

/** Too many requests for one token in the current window. */
export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED' as const;
  override readonly httpStatus = 429;
}

/** A dependency (database, object store) is unavailable. */
export class ServiceUnavailableError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE' as const;
  override readonly httpStatus = 503;
}

/** A WebSocket or a user already holds as many live subscriptions as allowed. */
export class TooManySubscriptionsError extends AppError {
  readonly code = 'TOO_MANY_SUBSCRIPTIONS' as const;
  override readonly httpStatus = 429;
}

import { ConnectionException, DriverException } from '@mikro-orm/core';
import { AppError, ConflictError, ServiceUnavailableError, ValidationError } from './app-error';

/** SQLSTATE classes and codes that mean "the database is not there right now", not "your query is wrong". */
const UNAVAILABLE_SQLSTATES = /^(08...|57P01|57P02|57P03|53300)$/;
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|Connection ended unexpectedly|terminating connection|Timeout acquiring a connection|the database system is (starting up|shutting down|in recovery)|Client has encountered a connection error|Client was closed/i;

/** A five-character SQLSTATE (`22008`, `23505`, `08006`, `XX000`): unlike an errno (`EPIPE`), it has a digit. */
const SQLSTATE = /^(?=[A-Z]*\d)[0-9A-Z]{5}$/;

/** Walks an error and its causes (a few levels: drivers wrap, services wrap again). */
function* chain(error: unknown): Generator<Record<string, unknown>> {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
    if (typeof e === 'object') yield e as Record<string, unknown>;
}

/** The SQLSTATE of a database error (or of one of its causes), or null when it has none. */
function sqlStateOf(error: unknown): string | null {
  for (const e of chain(error)) {
    for (const key of ['sqlState', 'code'] as const) {
      const value = e[key];
      if (typeof value === 'string' && SQLSTATE.test(value)) return value;
    }
  }
  return null;
}

/**
 * True when an error (or one of its causes) says the database could not be reached or dropped the
 * connection: the request may succeed if retried, so clients get SERVICE_UNAVAILABLE (HTTP 503), not
 * INTERNAL_SERVER_ERROR. An error with a SQLSTATE is an outage only when its SQLSTATE says so
 * (connection exceptions, shutdown, too many connections): a value the database refused (class 22)
 * is the request's fault, a constraint violation a conflict or a bug.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  if (sqlState) return UNAVAILABLE_SQLSTATES.test(sqlState);
  for (const e of chain(error)) {
    if (e instanceof ConnectionException) return true;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_ERRNOS.has(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  }
  return false;
}

/**
 * The domain error a database failure means for the client, decided by SQLSTATE (never by message):
 * an outage is SERVICE_UNAVAILABLE, a value PostgreSQL cannot store (class 22: out-of-range date,
 * NUL byte, overflow) BAD_USER_INPUT, a unique violation CONFLICT; null for anything else (a bug:
 * INTERNAL_SERVER_ERROR). Details carry the SQLSTATE only: driver messages inline the statement's
 * values, which may be PHI.
 */
export function databaseErrorOf(error: unknown): AppError | null {
  if (error instanceof AppError) return null;
  if (isDependencyUnavailable(error))
    return new ServiceUnavailableError('A dependency is unavailable; try again', { retryAfterSeconds: 2 });
  const sqlState = sqlStateOf(error);
  if (!sqlState) return null;
  if (sqlState.startsWith('22'))
    return new ValidationError('A value of this request cannot be stored', { sqlState });
  if (sqlState === '23505') return new ConflictError('This record already exists', { sqlState });
  return null;
}

/**
 * What may be logged of an unexpected error. A database error gives its class, SQLSTATE and the
 * schema names the server reported (table, column, constraint), never its message or detail, which
 * hold the statement with its values inlined (names, MRNs, birth dates); anything else its message
 * and stack.
 */
export function loggableError(error: unknown): Record<string, string | undefined> {
  const sqlState = sqlStateOf(error);
  if (sqlState || error instanceof DriverException) {
    const fields: Record<string, string | undefined> = {
      name: error instanceof Error ? error.name : typeof error,
      sqlState: sqlState ?? undefined,
    };
    for (const e of chain(error))
      for (const key of ['table', 'column', 'constraint', 'routine'] as const)
        if (typeof e[key] === 'string' && fields[key] === undefined) fields[key] = e[key] as string;
    return fields;
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
}

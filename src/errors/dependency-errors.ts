import { DriverException } from '@mikro-orm/core';

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

/**
 * True when an error (or one of its causes) says the database could not be reached or dropped the
 * connection: the request may succeed if retried, so clients get SERVICE_UNAVAILABLE (HTTP 503), not
 * INTERNAL_SERVER_ERROR. MikroORM's DriverException counts too (the existing mapping).
 */
export function isDependencyUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DriverException) return true;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_ERRNOS.has(code)))
      return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  }
  return false;
}

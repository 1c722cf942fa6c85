import { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from '../logging/logger';
import { AppError } from './app-error';
import { databaseErrorOf, loggableError } from './dependency-errors';

/** GraphQL error codes that come from the GraphQL layer itself and are passed through as they are. */
const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'QUERY_TOO_COMPLEX',
]);

/**
 * Rewrites graphql-js messages that quote the offending input value (`Variable "$i" got invalid value
 * { mrn: ... }`, `String cannot represent a non string value: ...`, `Expected value of type "X", found
 * ...`): the value may be PHI, and an error message travels to clients, proxies and their logs. The
 * variable, the path, the type names and the location stay, so the message still says what to fix.
 */
export function withoutInputValues(message: string): string {
  const variable = /^Variable "(\$\w+)" got invalid value [\s\S]*?(?: at "([\w.[\]]+)")?; ([\s\S]*)$/.exec(
    message,
  );
  if (variable) {
    const [, name, path, inner] = variable;
    const hint = /type "([\w[\]!]+)"|in "(\w+)" enum/.exec(withoutInputValues(inner));
    const type = hint?.[1] ?? hint?.[2];
    return `Variable "${name}" got an invalid value${path ? ` at "${path}"` : ''}${type ? ` (expected type "${type}")` : ''}.`;
  }
  const expected = /^Expected value of type "([^"]+)", found [\s\S]*$/.exec(message);
  if (expected) return `Expected value of type "${expected[1]}", found an invalid value.`;
  const scalar = /^(\w+ cannot represent [^:]*?)(?: value)?: [\s\S]*$/.exec(message);
  if (scalar) return `${scalar[1]} value.`;
  const enumValue = /^Value [\s\S]* does not exist in "(\w+)" enum\.[\s\S]*$/.exec(message);
  if (enumValue) return `The value does not exist in "${enumValue[1]}" enum.`;
  const field = /^Field "[^"]*" is not defined by type "(\w+)"\.[\s\S]*$/.exec(message);
  if (field) return `An input field is not defined by type "${field[1]}".`;
  if (message.startsWith('Syntax Error:')) return message.replace(/ "(?:[^"\\]|\\.)*"/g, '');
  return message;
}

/**
 * What a resolver threw: graphql-js wraps a resolver's error in a GraphQLError located at the field's
 * path (`originalError` holds it); errors without a path (parse, validation) are their own. The same
 * rule as Apollo's `unwrapResolverError`, written against graphql-js so that every transport (Apollo
 * over HTTP, graphql-ws, subscription fan-out) maps errors without the HTTP adapter's library.
 */
export function unwrapResolverError(error: unknown): unknown {
  return error instanceof GraphQLError && error.path && error.originalError ? error.originalError : error;
}

/**
 * The one place errors become `extensions.code`. Domain errors keep their literal code and their
 * id-only details; database errors are mapped by SQLSTATE ({@link databaseErrorOf}: outage →
 * SERVICE_UNAVAILABLE, a value PostgreSQL cannot store → BAD_USER_INPUT) and logged without their
 * message, which inlines the statement's values; anything else unexpected becomes
 * INTERNAL_SERVER_ERROR with a generic message, and the real error goes to the log with the request id.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error);
    // Validation errors have no path, so unwrapResolverError keeps Apollo's wrapper; a rule's domain error is its cause.
    const original =
      unwrapped instanceof GraphQLError && unwrapped.originalError instanceof AppError
        ? unwrapped.originalError
        : unwrapped;
    const requestId = (formatted.extensions?.requestId as string | undefined) ?? undefined;
    const fromDatabase = databaseErrorOf(original);
    if (fromDatabase) {
      const level = fromDatabase.code === 'SERVICE_UNAVAILABLE' ? 'error' : 'warn';
      logger[level]({ err: loggableError(original), code: fromDatabase.code, requestId }, 'database error');
      return {
        message: fromDatabase.message,
        path: formatted.path,
        extensions: { code: fromDatabase.code, details: fromDatabase.details },
      };
    }
    if (original instanceof AppError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, details: original.details },
      };
    }
    type Violations = { property: string; constraints?: Record<string, string> }[];
    // type-graphql's ArgumentValidationError is a GraphQLError (named so) whose extensions carry
    // class-validator's errors, each with the whole input as `target` (regression: PHI sent back).
    const validationErrors =
      (original as { validationErrors?: Violations } | undefined)?.validationErrors ??
      (original as { extensions?: { validationErrors?: Violations } } | undefined)?.extensions
        ?.validationErrors;
    if (Array.isArray(validationErrors)) {
      const validation = validationErrors;
      return {
        message: 'Argument validation failed',
        locations: formatted.locations,
        path: formatted.path,
        extensions: {
          code: 'BAD_USER_INPUT',
          details: { fields: validation.map((v) => v.property) },
          validation: validation.map((v) => ({ field: v.property, rules: Object.keys(v.constraints ?? {}) })),
        },
      };
    }
    const code = formatted.extensions?.code as string | undefined;
    if (code && PASS_THROUGH.has(code)) {
      return {
        ...formatted,
        message: withoutInputValues(formatted.message),
        extensions: { ...formatted.extensions, stacktrace: undefined },
      };
    }
    logger.error({ err: loggableError(original), requestId }, 'unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

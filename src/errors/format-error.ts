import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { DriverException } from '@mikro-orm/core';
import type { Logger } from '../logging/logger';
import { AppError } from './app-error';

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
 * The one place errors become `extensions.code`. Domain errors keep their literal code and their
 * id-only details; anything unexpected becomes INTERNAL_SERVER_ERROR with a generic message, and the
 * real error goes to the log with the request id.
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
    if (original instanceof AppError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, details: original.details },
      };
    }
    const name = (original as { name?: string } | undefined)?.name;
    if (name === 'ArgumentValidationError') {
      const validation =
        (original as { validationErrors?: { property: string; constraints?: Record<string, string> }[] })
          .validationErrors ?? [];
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
    if (original instanceof DriverException) {
      logger.error({ err: original.message, requestId }, 'database error');
      return {
        message: 'A dependency is unavailable; try again',
        path: formatted.path,
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      };
    }
    const code = formatted.extensions?.code as string | undefined;
    if (code && PASS_THROUGH.has(code)) {
      return { ...formatted, extensions: { ...formatted.extensions, stacktrace: undefined } };
    }
    logger.error(
      {
        err:
          original instanceof Error ? { message: original.message, stack: original.stack } : String(original),
        requestId,
      },
      'unexpected error',
    );
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

import { ApolloServer, ApolloServerPlugin, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, ForbiddenError, loggableError } from '../errors';
import type { AuditCollector } from '../domain/audit/audit.service';
import { createFormatError } from '../errors/format-error';
import type { Logger } from '../logging/logger';
import type { GraphQLContext } from '../resolvers/context';
import { queryLimitsRule } from '../schema/limits';
import { Admission, operationLabel } from './admission';
import { readBody } from './body';

/** Largest GraphQL request body accepted (documents and variables; images go to /uploads). */
const MAX_GRAPHQL_BODY_BYTES = 4 * 1024 * 1024;

/** Limits for the GraphQL endpoint. */
export interface GraphQLLimits {
  maxDepth: number;
  maxCost: number;
  pageMax: number;
  maxBase64UploadBytes: number;
  /** Most lexical tokens the parser reads in one document. */
  maxTokens: number;
}

/** One GraphQL operation served over HTTP. */
export interface GraphQLOperationEvent {
  /** `query`, `mutation`, or `unknown` when the document did not parse or validate. */
  type: string;
  /** Its top-level schema field names, sorted (`invalid` when unknown, `multiple` beyond four). */
  operation: string;
  outcome: 'ok' | 'error';
  durationMs: number;
}

/** What the GraphQL handler reports (metrics); implementations must be cheap and must not throw. */
export interface GraphQLObserver {
  operationFinished(event: GraphQLOperationEvent): void;
}

/**
 * Records every FORBIDDEN among an operation's errors as a DENIED audit event, named by the refused
 * field's path (`analyzeStudy.heatmapUrl`) under the operation's server-made label; written with the
 * request's reads. HTTP and WebSocket both call it.
 */
export function auditDenials(
  audit: AuditCollector | undefined,
  errors: readonly GraphQLError[] | undefined,
): void {
  if (!audit || !errors) return;
  for (const error of errors) {
    const original = error.originalError;
    const forbidden =
      original instanceof ForbiddenError ||
      (original instanceof GraphQLError && original.originalError instanceof ForbiddenError);
    if (!forbidden) continue;
    const path = (error.path ?? []).filter((p) => typeof p === 'string').join('.');
    audit.denied(path || audit.operation || 'operation');
  }
}

/**
 * A domain error raised before execution (rate limit, refused input), as Apollo carries it: with the
 * HTTP status it implies and its retry hint; `formatError` restores its code from the cause.
 */
function refusalOf(error: AppError): GraphQLError {
  const headers = new HeaderMap();
  const retry = error.details.retryAfterSeconds;
  if (retry !== undefined && retry !== null) headers.set('retry-after', String(retry));
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, http: { status: error.httpStatus, headers } },
  });
}

/**
 * One plugin for the audit trail and the metrics, so Apollo calls one set of hooks per request: each
 * resolved operation passes the admission, denials are audited, the audit rows are written and the
 * operation observed when the response is sent.
 */
function requestPlugin(
  admission: Admission,
  logger: Logger,
  observer: GraphQLObserver | undefined,
): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      let type = 'unknown';
      let operation = 'invalid';
      return {
        async didResolveOperation({ contextValue, operation: op, document, request }) {
          if (op) {
            type = op.operation;
            operation = operationLabel(op);
          }
          if (op?.operation === 'subscription') {
            // Over HTTP a subscription field would run without its event (regression: a 500).
            throw new GraphQLError(
              'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql',
              {
                extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
              },
            );
          }
          if (!op) return;
          try {
            // The request paid one unit at the door (http-server); the operation pays the rest of its cost.
            contextValue.audit.operation = admission.admitOperation(
              contextValue.principal,
              document,
              op,
              request.variables,
              1,
            );
          } catch (error) {
            throw error instanceof AppError ? refusalOf(error) : error;
          }
        },
        async didEncounterErrors({ contextValue, errors }) {
          auditDenials(contextValue.audit, errors);
        },
        async willSendResponse({ contextValue, response }) {
          if (contextValue.audit?.size) {
            try {
              await contextValue.audit.flush(contextValue.em);
            } catch (error) {
              logger.error(
                { err: loggableError(error), requestId: contextValue.requestId },
                'failed to write audit events',
              );
            }
          }
          if (observer) {
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            observer.operationFinished({
              type,
              operation,
              outcome: errors?.length ? 'error' : 'ok',
              durationMs: performance.now() - started,
            });
          }
        },
      };
    },
  };
}

/** The request's headers as Apollo takes them. */
function headerMapOf(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/**
 * The body of a POST: parsed JSON for a JSON content type, else the text (Apollo answers what it
 * cannot use); null when the JSON does not parse (the request was then answered 400).
 */
async function requestBody(
  req: IncomingMessage,
  res: ServerResponse,
  headers: HeaderMap,
  bodyLimit: number,
): Promise<{ body: unknown } | null> {
  if (req.method !== 'POST') return { body: undefined };
  const raw = await readBody(req, bodyLimit);
  const type = headers.get('content-type') ?? '';
  if (!/^application\/(graphql-response\+)?json\b/i.test(type)) return { body: raw.toString('utf8') };
  try {
    return { body: raw.length ? JSON.parse(raw.toString('utf8')) : undefined };
  } catch {
    res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
    res.end(
      JSON.stringify({
        errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
      }),
    );
    return null;
  }
}

/** Runs one GraphQL-over-HTTP request through Apollo and writes its answer (never cached). */
async function serveGraphQLRequest(
  apollo: ApolloServer<GraphQLContext>,
  bodyLimit: number,
  {
    req,
    res,
    url,
    context,
  }: {
    req: IncomingMessage;
    res: ServerResponse;
    url: { search: string };
    context: () => Promise<GraphQLContext>;
  },
): Promise<void> {
  const headers = headerMapOf(req);
  const parsed = await requestBody(req, res, headers, bodyLimit);
  if (!parsed) return;
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: parsed.body },
    context,
  });
  const outHeaders: Record<string, string> = { 'cache-control': 'no-store' };
  for (const [key, value] of response.headers) outHeaders[key] = value;
  res.writeHead(response.status ?? 200, outHeaders);
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
  } else {
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

/**
 * Apollo Server over plain `node:http` (its documented integration API): no web framework in the
 * request path. Every operation passes the {@link Admission} once parsed and validated (cost-based
 * rate limit, storable input, server-made audit label); audit reads collected during a request are
 * written when the response is sent. `validationRules` is returned so the WebSocket transport
 * applies the same limits.
 */
export async function createGraphQLHandler(
  schema: GraphQLSchema,
  logger: Logger,
  limits: GraphQLLimits,
  options: { admission: Admission; observer?: GraphQLObserver },
) {
  const { admission, observer } = options;
  const validationRules = [queryLimitsRule(limits.maxDepth, limits.maxCost, limits.pageMax)];
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: createFormatError(logger),
    includeStacktraceInErrorResponses: false,
    // The composition root stops Apollo in order on SIGTERM; Apollo's own handler would stop it early
    // and re-raise the signal, killing the process in the middle of that drain (exit 143, not 0).
    stopOnTerminationSignals: false,
    // Bearer tokens (not cookies) authenticate every request, so browser CSRF cannot forge one.
    csrfPrevention: false,
    introspection: true,
    // A document is parsed before any limit can look at it: the parser itself stops at maxTokens
    // (regression: a 3.9 MB document held the event loop for 2.3 s).
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules,
    // No HTTP caching of GraphQL answers (they carry patient data): the cache-control plugin, which
    // Apollo installs by default and which hooks every resolved field, is off; responses say no-store.
    // Inline tracing is for federated subgraphs, which this schema is not: off, one hook less per request.
    plugins: [
      requestPlugin(admission, logger, observer),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
    ],
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
  await apollo.start();

  const bodyLimit = Math.max(
    MAX_GRAPHQL_BODY_BYTES,
    Math.ceil((limits.maxBase64UploadBytes * 4) / 3) + 64 * 1024,
  );

  const handle = (
    req: IncomingMessage,
    res: ServerResponse,
    url: { search: string },
    context: () => Promise<GraphQLContext>,
  ) => serveGraphQLRequest(apollo, bodyLimit, { req, res, url, context });

  return { apollo, handle, validationRules, maxTokens: limits.maxTokens, stop: () => apollo.stop() };
}

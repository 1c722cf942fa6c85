import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLError, GraphQLSchema, ValidationRule } from 'graphql';
import type { Principal } from '../auth/principal';
import { bearerToken } from '../auth/token.service';
import {
  AppError,
  databaseErrorOf,
  ErrorDetails,
  ForbiddenError,
  loggableError,
  UnauthenticatedError,
} from '../errors';
import { createFormatError } from '../errors/format-error';
import type { Logger } from '../logging/logger';
import type { GraphQLContext } from '../resolvers/context';
import type { Admission } from './admission';
import { readBody } from './body';
import { DASHBOARD_HEADERS, StaticAssets } from './dashboard';
import { startGraphQLWs } from './graphql-ws';
import type { SubscriptionFanOut } from './subscription-fan-out';

/** One finished HTTP request; `route` is a fixed name (never the raw path, which may hold ids). */
export interface HttpRequestEvent {
  method: string;
  route: string;
  status: number;
  durationMs: number;
}

/** What the HTTP server reports (metrics); implementations must be cheap and must not throw. */
export interface HttpObserver {
  requestFinished(event: HttpRequestEvent): void;
  /** A WebSocket (graphql-ws) connection was accepted. */
  webSocketOpened?(): void;
  /** A WebSocket connection closed. */
  webSocketClosed?(): void;
}

/** The Prometheus exposition served at `GET /metrics`. */
export interface MetricsEndpoint {
  render(): Promise<string>;
  contentType: string;
  /** When set, scrapes must send `Authorization: Bearer <token>`; when null the endpoint is open. */
  token: string | null;
}

/** Connection limits of the HTTP server. */
export interface HttpLimits {
  /** A connection whose request headers are incomplete after this long is answered 408 and closed. */
  headersTimeoutMs: number;
  /** Open connections (HTTP and WebSocket) beyond which new ones are refused. */
  maxConnections: number;
}

/** What the HTTP layer needs from the rest of the app. */
export interface HttpDeps {
  schema: GraphQLSchema;
  logger: Logger;
  /** Authentication, rate limit and audit labels for every request and operation (HTTP and WebSocket). */
  admission: Admission;
  maxUploadBytes: number;
  /** Defaults: 10 s headers timeout, 8192 connections. */
  limits?: HttpLimits;
  createContext(principal: Principal | null, requestId: string, signal?: AbortSignal): GraphQLContext;
  graphql: {
    handle(
      req: IncomingMessage,
      res: ServerResponse,
      url: RequestTarget,
      context: () => Promise<GraphQLContext>,
    ): Promise<void>;
    /** Rules beyond the specified ones (depth and cost limits); WebSocket operations are validated with them too. */
    validationRules?: readonly ValidationRule[];
    /** Most lexical tokens in one document; WebSocket operations are parsed with it too. */
    maxTokens: number;
  };
  formatError(error: GraphQLError): Record<string, unknown>;
  /** Subscription delivery over WebSocket, and how often each socket's user is re-checked (ms). */
  subscriptions: { fanOut: SubscriptionFanOut; authRecheckMs: number };
  routes: RouteHandler[];
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Served at `GET /metrics` when given. */
  metrics?: MetricsEndpoint;
  /** Told of every finished request. */
  observer?: HttpObserver;
  /** Static pages served without a token (the monitoring dashboard). */
  staticAssets?: StaticAssets;
}

/** A plain HTTP route (uploads, downloads): matched by method and path pattern, always authenticated. */
export interface RouteHandler {
  /** Fixed name of the route in metrics (default: the pattern's source). */
  name?: string;
  method: string;
  pattern: RegExp;
  /** Largest request body this route reads (default: MAX_UPLOAD_BYTES). */
  maxBodyBytes?: number;
  handle(
    ctx: GraphQLContext,
    req: IncomingMessage,
    match: RegExpMatchArray,
    body: () => Promise<Buffer>,
  ): Promise<HttpResult>;
}

/** A route's answer. */
export interface HttpResult {
  status: number;
  headers?: Record<string, string>;
  body: Buffer | string | Record<string, unknown>;
}

/** The running server. */
export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** The path and query of a request target. */
export interface RequestTarget {
  pathname: string;
  /** `?…`, or empty. */
  search: string;
}

/**
 * Splits a request target into path and query. The usual origin form (`/graphql?x`) is split as is,
 * without a URL parser (which costs more than the rest of the routing); anything else (absolute form)
 * goes through one.
 */
export function requestTarget(raw: string | undefined): RequestTarget {
  const target = raw ?? '/';
  if (target.startsWith('/') && !target.startsWith('//') && !target.includes('\\')) {
    const q = target.indexOf('?');
    const end = target.indexOf('#');
    const stop = end < 0 ? target.length : end;
    return q < 0 || q > stop
      ? { pathname: target.slice(0, stop), search: '' }
      : { pathname: target.slice(0, q), search: q + 1 < stop ? target.slice(q, stop) : '' };
  }
  const url = new URL(target, 'http://localhost');
  return { pathname: url.pathname, search: url.search };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of a presented token with the configured one. */
function tokenMatches(presented: string | null, expected: string): boolean {
  return presented !== null && timingSafeEqual(digest(presented), digest(expected));
}

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The request's `x-request-id` when it is a short token, else a new UUID. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
}

/** Tells the observer of the request once its response closes. */
function observeRequest(
  observer: HttpObserver,
  req: IncomingMessage,
  res: ServerResponse,
  seen: { route: string },
): void {
  const started = performance.now();
  res.once('close', () =>
    observer.requestFinished({
      method: req.method ?? 'GET',
      route: seen.route,
      status: res.statusCode,
      durationMs: performance.now() - started,
    }),
  );
}

/**
 * Answers a request that failed. The one `formatError` maps the error (domain errors keep their code
 * and details, database errors are mapped by SQLSTATE and logged without their message, anything
 * else becomes INTERNAL_SERVER_ERROR and is logged); the status is the mapped error's own, 500 for
 * the unexpected. A deliberate error on /graphql has the GraphQL shape, any other the routes' shape.
 */
function sendError(
  formatError: ReturnType<typeof createFormatError>,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  error: unknown,
): void {
  const mapped = error instanceof AppError ? error : databaseErrorOf(error);
  const formatted = formatError({ message: '', extensions: { requestId } }, error);
  const code = formatted.extensions?.code as string;
  const details = formatted.extensions?.details as ErrorDetails | undefined;
  const headers: Record<string, string> = {};
  if (code === 'RATE_LIMITED' || code === 'SERVICE_UNAVAILABLE')
    headers['retry-after'] = String(details?.retryAfterSeconds ?? 60);
  if (code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
  const isGraphQL = mapped !== null && (req.url ?? '').startsWith('/graphql');
  sendJson(
    res,
    mapped?.httpStatus ?? 500,
    isGraphQL ? { errors: [formatted] } : { error: { code, message: formatted.message, details, requestId } },
    headers,
  );
}

/** Serves `GET /metrics`, behind its scrape token when one is set. */
async function serveMetrics(
  metrics: MetricsEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { token } = metrics;
  if (token !== null && !tokenMatches(bearerToken(req.headers.authorization), token))
    throw new UnauthenticatedError('This endpoint needs the metrics scrape token', { reason: 'METRICS' });
  const text = await metrics.render();
  res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
  res.end(text);
}

/** Writes a route's answer: bytes or text as they are, anything else as JSON. */
function sendResult(res: ServerResponse, result: HttpResult): void {
  if (Buffer.isBuffer(result.body) || typeof result.body === 'string') {
    res.writeHead(result.status, result.headers ?? {});
    res.end(result.body);
  } else sendJson(res, result.status, result.body, result.headers);
}

/** The door of every authenticated request: who it is, and one unit of its rate budget. */
async function principalOf(admission: Admission, req: IncomingMessage): Promise<Principal> {
  const principal = await admission.authenticate(bearerToken(req.headers.authorization));
  admission.charge(principal);
  return principal;
}

/** GraphQL over HTTP, with a context whose signal aborts when the client goes away. */
async function serveGraphQL(
  deps: HttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  url: RequestTarget,
): Promise<void> {
  const principal = await principalOf(deps.admission, req);
  // A client that disconnects cancels what it was waiting for (e.g. a queued inference).
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const context = deps.createContext(principal, requestId, abort.signal);
  return deps.graphql.handle(req, res, url, async () => context);
}

/** Runs a plain route with its audit trail: written after it, and for a denial too. */
async function serveRoute(
  deps: HttpDeps,
  handler: RouteHandler,
  match: RegExpMatchArray,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const principal = await principalOf(deps.admission, req);
  const ctx = deps.createContext(principal, requestId);
  // A readable name (`GET /predictions/:id/heatmap`), never the route's pattern or the raw path.
  const routeName = `${req.method} ${handler.name ?? handler.pattern.source}`;
  ctx.audit.operation = routeName;
  let result: HttpResult;
  try {
    result = await handler.handle(ctx, req, match, () =>
      readBody(req, handler.maxBodyBytes ?? deps.maxUploadBytes),
    );
  } catch (error) {
    if (error instanceof ForbiddenError) {
      ctx.audit.denied(routeName);
      await ctx.audit
        .flush(ctx.em)
        .catch((e: unknown) =>
          deps.logger.error({ err: loggableError(e), requestId }, 'failed to write audit events'),
        );
    }
    throw error;
  }
  await ctx.audit.flush(ctx.em);
  sendResult(res, result);
}

/** Finds a request's handler and runs it; `seen.route` gets the route's fixed name for metrics. */
async function route(
  deps: HttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  seen: { route: string },
): Promise<void> {
  const url = requestTarget(req.url);
  if (['/health/live', '/health/ready', '/metrics', '/graphql'].includes(url.pathname))
    seen.route = url.pathname;
  if (url.pathname === '/health/live') return sendJson(res, 200, { status: 'ok' });
  const asset = req.method === 'GET' ? deps.staticAssets?.get(url.pathname) : null;
  if (asset) {
    seen.route = '/dashboard';
    res.writeHead(200, { 'content-type': asset.contentType, ...DASHBOARD_HEADERS });
    res.end(asset.body);
    return;
  }
  if (url.pathname === '/metrics' && deps.metrics) return serveMetrics(deps.metrics, req, res);
  if (url.pathname === '/health/ready') {
    const result = await deps.ready();
    return sendJson(res, result.ok ? 200 : 503, {
      status: result.ok ? 'ready' : 'not ready',
      checks: result.checks,
    });
  }
  if (url.pathname === '/graphql') return serveGraphQL(deps, req, res, requestId, url);
  for (const handler of deps.routes) {
    if (handler.method !== req.method) continue;
    const match = url.pathname.match(handler.pattern);
    if (!match) continue;
    seen.route = handler.name ?? handler.pattern.source;
    return serveRoute(deps, handler, match, req, res, requestId);
  }
  sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'No such route', requestId } });
}

/** Listens with a deep accept backlog: bursts of a thousand connections queue instead of being refused. */
async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: 4096 }, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * One port for everything: GraphQL over HTTP and WebSocket (graphql-ws) at /graphql, authenticated
 * upload/download routes, and health probes. Every request except the probes carries a bearer token.
 * Connections that dawdle over their headers are closed after `headersTimeoutMs` (checked every
 * second, not Node's default 30 s), and at most `maxConnections` are open at once.
 */
export async function startHttpServer(deps: HttpDeps, host: string, port: number): Promise<RunningServer> {
  const { logger, admission } = deps;
  const limits = deps.limits ?? { headersTimeoutMs: 10_000, maxConnections: 8192 };
  const formatError = createFormatError(logger);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(300_000, limits.headersTimeoutMs),
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const requestId = requestIdOf(req);
      res.setHeader('x-request-id', requestId);
      const seen = { route: 'unmatched' };
      if (deps.observer) observeRequest(deps.observer, req, res, seen);
      void route(deps, req, res, requestId, seen).catch((error: unknown) =>
        sendError(formatError, req, res, requestId, error),
      );
    },
  );
  const ws = startGraphQLWs(server, {
    schema: deps.schema,
    admission,
    validationRules: deps.graphql.validationRules ?? [],
    maxTokens: deps.graphql.maxTokens,
    createContext: (principal, requestId) => deps.createContext(principal, requestId),
    formatError: deps.formatError,
    fanOut: deps.subscriptions.fanOut,
    authRecheckMs: deps.subscriptions.authRecheckMs,
    logger,
    onOpen: () => deps.observer?.webSocketOpened?.(),
    onClose: () => deps.observer?.webSocketClosed?.(),
  });
  server.maxConnections = limits.maxConnections;
  const boundPort = await listen(server, host, port);
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server,
    port: boundPort,
    url: `http://${shownHost}:${boundPort}`,
    async close() {
      await ws.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  createSourceEventStream,
  DocumentNode,
  execute,
  ExecutionArgs,
  ExecutionResult,
  getOperationAST,
  GraphQLError,
  GraphQLSchema,
  parse,
  specifiedRules,
  validate,
  ValidationRule,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal';
import { bearerToken } from '../auth/token.service';
import { AppError, loggableError, UnauthenticatedError } from '../errors';
import type { Logger } from '../logging/logger';
import type { GraphQLContext } from '../resolvers/context';
import type { Admission } from './admission';
import { auditDenials } from './graphql-server';

/** Largest graphql-ws message accepted. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** How long clients get to answer the server's close frame on shutdown before their sockets are cut. */
const CLOSE_GRACE_MS = 1000;

/** What the graphql-ws transport needs from the rest of the app. */
export interface GraphQLWsDeps {
  schema: GraphQLSchema;
  admission: Admission;
  /** Rules beyond the specified ones (depth and cost limits), as over HTTP. */
  validationRules: readonly ValidationRule[];
  /** Most lexical tokens the parser reads in one document, as over HTTP. */
  maxTokens: number;
  createContext(principal: Principal, requestId: string): GraphQLContext;
  formatError(error: GraphQLError): Record<string, unknown>;
  logger: Logger;
  /** Told when a socket opens and closes (the websocket_connections gauge). */
  onOpen?(): void;
  onClose?(): void;
}

/** What one socket carries between messages. */
type SocketState = {
  token?: string;
  /** Release functions of the subscriptions this socket holds, by operation id. */
  holds?: Map<string, () => void>;
};

/** The running transport. */
export interface GraphQLWsServer {
  /** Closes every socket (1001, then cut after a grace period) and stops accepting new ones. */
  close(): Promise<void>;
}

/** A GraphQL error with the code clients get for it; a domain error keeps its own (via its cause). */
function coded(error: GraphQLError, code: string): GraphQLError {
  if (error.originalError instanceof AppError) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/** Any error raised before execution, as a GraphQL error whose cause `formatError` maps. */
function refusal(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const cause = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(cause.message, { originalError: cause });
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';

/**
 * `source` with each value passed through `map`, calling `done` once when it ends in any way (its
 * last value, `return` from graphql-ws when the client completes or the socket closes, an error). A
 * plain iterator object rather than an async generator: graphql-ws's `return()` must end a source
 * that is waiting for its next event at once, which a suspended generator would not.
 */
function mapEvents<T, R>(
  source: AsyncIterator<T>,
  map: (value: T) => Promise<R>,
  done: () => void,
): AsyncIterableIterator<R> {
  const finished = { done: true, value: undefined } as IteratorReturnResult<undefined> as IteratorResult<R>;
  return {
    async next() {
      try {
        const step = await source.next();
        if (step.done) {
          done();
          return finished;
        }
        return { done: false, value: await map(step.value) };
      } catch (error) {
        done();
        throw error;
      }
    },
    async return() {
      done();
      await source.return?.();
      return finished;
    },
    async throw(error?: unknown) {
      done();
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * GraphQL over WebSocket (graphql-transport-ws) at `/graphql`, through the same {@link Admission} as
 * HTTP: the token of `connection_init` is authenticated at connect and again before every operation
 * (a deactivated user's next operation is refused and the socket closed with 4403, instead of running
 * first), each operation is charged to the token's rate budget by cost and audited under a
 * server-made label, subscriptions are capped per socket and per user, and each subscription event
 * is resolved in a fresh request context whose reads are audited like any other request's.
 */
export function startGraphQLWs(server: Server, deps: GraphQLWsDeps): GraphQLWsServer {
  const { admission, schema, logger } = deps;
  const rules = [...specifiedRules, ...deps.validationRules];
  /** Per-operation hooks the event stream needs (graphql-ws hands `subscribe` only the execution args). */
  const eventHooks = new WeakMap<object, { authenticate(): Promise<Principal | null> }>();
  /** Results of subscription events: audited in their own context already. */
  const eventResults = new WeakSet<object>();

  const flushAudit = async (ctx: GraphQLContext) => {
    if (!ctx.audit.size) return;
    try {
      await ctx.audit.flush(ctx.em);
    } catch (error) {
      logger.error({ err: loggableError(error), requestId: ctx.requestId }, 'failed to write audit events');
    }
  };

  /** Subscribes with the operation's context, then runs each event in a context of its own. */
  const subscribe = async (
    args: ExecutionArgs,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream as ExecutionResult;
    const base = args.contextValue as GraphQLContext;
    const hooks = eventHooks.get(base);
    return mapEvents(
      stream[Symbol.asyncIterator](),
      async (event): Promise<ExecutionResult> => {
        const principal = hooks ? await hooks.authenticate() : base.principal;
        if (!principal)
          return {
            errors: [
              refusal(new UnauthenticatedError('Authentication expired or revoked', { reason: 'REVOKED' })),
            ],
          };
        const ctx = deps.createContext(principal, randomUUID());
        ctx.audit.operation = base.audit.operation;
        const result = await execute({ ...args, rootValue: event, contextValue: ctx });
        auditDenials(ctx.audit, result.errors);
        await flushAudit(ctx);
        eventResults.add(result);
        return result;
      },
      () => undefined,
    );
  };

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_MESSAGE_BYTES });
  wss.on('connection', (socket) => {
    deps.onOpen?.();
    socket.once('close', () => deps.onClose?.());
  });

  const disposable = useServer<Record<string, unknown>, SocketState>(
    {
      schema,
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const token = typeof raw === 'string' ? (bearerToken(raw) ?? raw) : null;
        try {
          await admission.authenticate(token);
        } catch {
          return false;
        }
        ctx.extra.token = token!;
        ctx.extra.holds = new Map();
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const socket = ctx.extra.socket;
        let principal: Principal;
        try {
          // Re-checked before every operation: a deactivated user's next write never runs.
          principal = await admission.authenticate(ctx.extra.token);
        } catch (error) {
          if (error instanceof UnauthenticatedError) socket.close(CloseCode.Forbidden, 'Forbidden');
          return [refusal(error)];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: deps.maxTokens });
        } catch (error) {
          return [coded(refusal(error), 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document, rules);
        if (errors.length) return errors.map((e) => coded(e, 'GRAPHQL_VALIDATION_FAILED'));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation)
          return [
            new GraphQLError('Unable to identify the operation', {
              extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
            }),
          ];
        const contextValue = deps.createContext(principal, randomUUID());
        const holds = ctx.extra.holds ?? (ctx.extra.holds = new Map());
        try {
          contextValue.audit.operation = admission.admitOperation(
            principal,
            document,
            operation,
            payload.variables,
          );
          if (operation.operation === 'subscription')
            holds.set(id, admission.holdSubscription(principal, holds.size));
        } catch (error) {
          return [refusal(error)];
        }
        eventHooks.set(contextValue, {
          authenticate: () =>
            admission.authenticate(ctx.extra.token).catch((error: unknown) => {
              if (!(error instanceof UnauthenticatedError)) throw error;
              // A socket outlives its token's checks: deactivation or expiry ends it before the next event.
              socket.close(CloseCode.Forbidden, 'Forbidden');
              return null;
            }),
        });
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      subscribe,
      onOperation: (ctx, id, _payload, _args, result) => {
        const release = ctx.extra.holds?.get(id);
        if (!release) return undefined;
        const done = () => {
          release();
          ctx.extra.holds?.delete(id);
        };
        if (!isAsyncIterable(result)) {
          done();
          return undefined;
        }
        return mapEvents(result[Symbol.asyncIterator](), async (value) => value, done);
      },
      onNext: async (_ctx, _id, _payload, args, result) => {
        // Queries and mutations: their reads are written now (events wrote theirs already).
        const context = args.contextValue as GraphQLContext;
        if (!isAsyncIterable(result) && 'errors' in result && !eventResults.has(result))
          auditDenials(context.audit, result.errors as GraphQLError[]);
        await flushAudit(context);
        if ('errors' in result && result.errors?.length) {
          return {
            ...result,
            errors: result.errors.map((e) => deps.formatError(e as GraphQLError) as never),
          };
        }
        return result;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => deps.formatError(e) as never),
      onClose: (ctx) => {
        for (const release of ctx.extra.holds?.values() ?? []) release();
        ctx.extra.holds?.clear();
      },
    },
    wss,
  );

  return {
    async close() {
      // Sockets whose peer never answers the close frame would hold the shutdown for ws's 30 s timeout.
      const cut = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      try {
        await disposable.dispose();
      } finally {
        clearTimeout(cut);
      }
    },
  };
}

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  createSourceEventStream,
  DocumentNode,
  ExecutionArgs,
  ExecutionResult,
  getOperationAST,
  GraphQLError,
  GraphQLSchema,
  OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
  ValidationRule,
} from 'graphql';
import { CloseCode, type Context, type SubscribePayload } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal';
import { bearerToken } from '../auth/token.service';
import { AppError, loggableError, UnauthenticatedError } from '../errors';
import type { Logger } from '../logging/logger';
import { TopicStream } from '../pubsub/topic-stream';
import type { GraphQLContext } from '../resolvers/context';
import type { Admission } from './admission';
import { auditDenials } from './graphql-server';
import { FanOutConnection, SLOW_CONSUMER_CLOSE_CODE, SubscriptionFanOut } from './subscription-fan-out';
import { WsSessions } from './ws-sessions';

/** Largest graphql-ws message accepted. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** How long clients get to answer the server's close frame on shutdown before their sockets are cut. */
const CLOSE_GRACE_MS = 1000;

/**
 * How long a slow consumer's socket may take to close after its close frame was queued (behind what
 * it did not read) before it is cut.
 */
const SLOW_CLOSE_GRACE_MS = 5000;

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
  /** Delivers subscription events: one execution per event and group, frames to every subscriber. */
  fanOut: SubscriptionFanOut;
  /** How often every socket's user is re-checked besides on changes (ms). */
  authRecheckMs: number;
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
  /** The socket as fan-out sees it (its subscriptions, its backlog). */
  connection?: FanOutConnection;
  /** Ends the socket's authentication session (its expiry timer, its user watch). */
  endSession?: () => void;
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
 * What graphql-ws iterates for a subscription that fan-out serves: it yields nothing (fan-out writes
 * the frames to the socket itself) and ends when graphql-ws returns it (the client completed, the
 * socket closed), calling `end` once.
 */
function served(end: () => void): AsyncIterableIterator<ExecutionResult> {
  let finish!: () => void;
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const finished = { done: true, value: undefined } as IteratorResult<ExecutionResult>;
  const stop = () => {
    end();
    finish();
  };
  return {
    next: () => ended.then(() => finished),
    async return() {
      stop();
      return finished;
    },
    async throw(error?: unknown) {
      stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** The context graphql-ws hands each callback of one socket. */
type SocketContext = Context<Record<string, unknown>, Extra & Partial<SocketState>>;

/** The socket, operation id and subscriber of a subscription, keyed by its GraphQL context. */
type Subscribers = WeakMap<
  object,
  { connection: FanOutConnection; id: string; principal: Principal; operation: string }
>;

/** Writes the audit rows an operation collected; a failure is logged, never the client's problem. */
async function flushAudit(logger: Logger, ctx: GraphQLContext): Promise<void> {
  if (!ctx.audit.size) return;
  try {
    await ctx.audit.flush(ctx.em);
  } catch (error) {
    logger.error({ err: loggableError(error), requestId: ctx.requestId }, 'failed to write audit events');
  }
}

/**
 * graphql-ws's `subscribe`: checks the subscription (permissions, arguments) and hands it to fan-out
 * (graphql-ws hands it only the execution args, hence `subscribers`).
 */
async function subscribeThroughFanOut(
  deps: Pick<GraphQLWsDeps, 'fanOut' | 'logger'>,
  subscribers: Subscribers,
  args: ExecutionArgs,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return stream as ExecutionResult;
  const context = args.contextValue as GraphQLContext;
  const subscriber = subscribers.get(context);
  if (!(stream instanceof TopicStream) || !subscriber) {
    // Every subscription field streams a topic (subscribeTo); anything else would bypass fan-out's bounds.
    deps.logger.error({ requestId: context.requestId }, 'subscription source is not a topic stream');
    return { errors: [new GraphQLError('This subscription cannot be served')] };
  }
  const end = deps.fanOut.subscribe(subscriber.connection, {
    id: subscriber.id,
    requestId: context.requestId,
    principal: subscriber.principal,
    stream,
    execution: {
      schema: args.schema,
      document: args.document,
      variableValues: args.variableValues,
      operationName: args.operationName,
    },
    operation: subscriber.operation,
  });
  return served(end);
}

/** `connection_init`: authenticates the token and opens the socket's fan-out connection and session. */
async function connectSocket(
  deps: Pick<GraphQLWsDeps, 'admission' | 'fanOut'>,
  sessions: WsSessions,
  ctx: SocketContext,
): Promise<boolean> {
  const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
  const token = typeof raw === 'string' ? (bearerToken(raw) ?? raw) : null;
  let principal: Principal;
  try {
    principal = await deps.admission.authenticate(token);
  } catch {
    return false;
  }
  const socket = ctx.extra.socket;
  let cut: NodeJS.Timeout | null = null;
  const connection = deps.fanOut.connect({
    bufferedBytes: () => socket.bufferedAmount,
    send: (frame) => socket.send(frame),
    close: (code, reason) => {
      socket.close(code, reason);
      // A peer that does not read will not read the close frame either: cut it after a while.
      if (code === SLOW_CONSUMER_CLOSE_CODE && !cut) {
        cut = setTimeout(() => socket.terminate(), SLOW_CLOSE_GRACE_MS);
        cut.unref();
        socket.once('close', () => clearTimeout(cut!));
      }
    },
  });
  ctx.extra.token = token!;
  ctx.extra.holds = new Map();
  ctx.extra.connection = connection;
  ctx.extra.endSession = sessions.open(token!, principal, connection);
  return true;
}

/** Parses and validates an operation's document with the HTTP limits, or says why it cannot run. */
function checkedDocument(
  deps: Pick<GraphQLWsDeps, 'schema' | 'maxTokens'>,
  rules: readonly ValidationRule[],
  payload: SubscribePayload,
): { document: DocumentNode; operation: OperationDefinitionNode } | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: deps.maxTokens });
  } catch (error) {
    return { errors: [coded(refusal(error), 'GRAPHQL_PARSE_FAILED')] };
  }
  const errors = validate(deps.schema, document, rules);
  if (errors.length) return { errors: errors.map((e) => coded(e, 'GRAPHQL_VALIDATION_FAILED')) };
  const operation = getOperationAST(document, payload.operationName);
  if (!operation)
    return {
      errors: [
        new GraphQLError('Unable to identify the operation', {
          extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
        }),
      ],
    };
  return { document, operation };
}

/**
 * graphql-ws's `onSubscribe`: re-authenticates the socket's token (a deactivated user's next
 * operation never runs; the socket closes with 4403), checks the document, charges the operation,
 * holds a subscription slot, and returns the execution args (or the errors the client gets).
 */
async function admitOperation(
  deps: GraphQLWsDeps,
  rules: readonly ValidationRule[],
  subscribers: Subscribers,
  { ctx, id, payload }: { ctx: SocketContext; id: string; payload: SubscribePayload },
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  const { admission } = deps;
  let principal: Principal;
  try {
    // Re-checked before every operation: a deactivated user's next write never runs.
    principal = await admission.authenticate(ctx.extra.token);
  } catch (error) {
    if (error instanceof UnauthenticatedError) {
      // No event reaches the socket after this line; then it closes.
      ctx.extra.connection?.detach();
      ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden');
    }
    return [refusal(error)];
  }
  const checked = checkedDocument(deps, rules, payload);
  if ('errors' in checked) return checked.errors;
  const { document, operation } = checked;
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
  if (operation.operation === 'subscription' && ctx.extra.connection)
    subscribers.set(contextValue, {
      connection: ctx.extra.connection,
      id,
      principal,
      operation: contextValue.audit.operation!,
    });
  return {
    schema: deps.schema,
    document,
    operationName: payload.operationName,
    variableValues: payload.variables,
    contextValue,
  };
}

/**
 * GraphQL over WebSocket (graphql-transport-ws) at `/graphql`, through the same {@link Admission} as
 * HTTP. The token of `connection_init` is authenticated at connect and again before every operation
 * the client sends (a deactivated user's next operation is refused and the socket closed with 4403,
 * instead of running first); each operation is charged to the token's rate budget by cost and
 * audited under a server-made label; subscriptions are capped per socket and per user. Events are
 * not re-authenticated one by one: the socket is closed when its token expires or its user changes
 * ({@link WsSessions}). Subscription events are delivered by {@link SubscriptionFanOut}: executed once
 * per event for each group of subscribers with the same document, variables and role, audited per
 * recipient in batches, and written to each socket without waiting for its peer; a socket that does
 * not read its events is closed with {@link SLOW_CONSUMER_CLOSE_CODE} (4008).
 */
export function startGraphQLWs(server: Server, deps: GraphQLWsDeps): GraphQLWsServer {
  const { admission, schema, logger } = deps;
  const rules = [...specifiedRules, ...deps.validationRules];
  const sessions = new WsSessions({ admission, recheckMs: deps.authRecheckMs, logger });
  const subscribers: Subscribers = new WeakMap();

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_MESSAGE_BYTES });
  wss.on('connection', (socket) => {
    deps.onOpen?.();
    socket.once('close', () => deps.onClose?.());
  });

  const disposable = useServer<Record<string, unknown>, SocketState>(
    {
      schema,
      connectionInitWaitTimeout: 10_000,
      onConnect: (ctx) => connectSocket(deps, sessions, ctx),
      onSubscribe: (ctx, id, payload) => admitOperation(deps, rules, subscribers, { ctx, id, payload }),
      subscribe: (args) => subscribeThroughFanOut(deps, subscribers, args),
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
        // Queries, mutations and refused subscriptions: their reads are written before the answer
        // (fan-out records what its events read, per recipient).
        const context = args.contextValue as GraphQLContext;
        if ('errors' in result) auditDenials(context.audit, result.errors as GraphQLError[]);
        await flushAudit(logger, context);
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
        ctx.extra.connection?.detach();
        ctx.extra.endSession?.();
        for (const release of ctx.extra.holds?.values() ?? []) release();
        ctx.extra.holds?.clear();
      },
    },
    wss,
  );

  return {
    async close() {
      sessions.close();
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

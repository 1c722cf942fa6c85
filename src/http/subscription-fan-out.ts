import { DocumentNode, execute, ExecutionResult, GraphQLError, GraphQLSchema, print } from 'graphql';
import type { Principal } from '../auth/principal';
import type { DeliveryAuditSink, DeliveryRecipient } from '../domain/audit/audit-batch-writer';
import type { AuditEntry } from '../domain/audit/audit.service';
import type { Role } from '../domain/enums';
import type { RequestContext } from '../domain/shared/request-context';
import { loggableError } from '../errors';
import type { Logger } from '../logging/logger';
import type { TopicStream } from '../pubsub/topic-stream';
import type { GraphQLContext } from '../resolvers/context';
import { auditDenials } from './graphql-server';

/**
 * Close code of a socket whose peer did not read its events: more than `slowConsumerBytes` waited
 * to be sent to it. The connection's subscriptions end; a client may reconnect and resubscribe (and
 * should re-read what it follows: events sent while it was too slow are not sent again).
 */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;

/** Where a connection's frames go: a WebSocket, in the server. */
export interface FrameSink {
  /** Bytes handed to the socket and not yet written to the network (ws `bufferedAmount`). */
  bufferedBytes(): number;
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** One subscription operation to register; `TPayload` is what its topic publishes. */
export interface SubscriptionSpec<TPayload = unknown> {
  /** The protocol's operation id (graphql-ws `id`): each frame names it. */
  id: string;
  /** The request id of the subscription: the audit rows of its deliveries carry it. */
  requestId: string;
  /** Who subscribed (their role chooses the group; their id is on each delivery's audit rows). */
  principal: Principal;
  /** What the subscription field's `subscribe` returned. */
  stream: TopicStream<TPayload>;
  /** How to execute it for an event (the event is the root value). */
  execution: {
    schema: GraphQLSchema;
    document: DocumentNode;
    variableValues?: Record<string, unknown> | null;
    operationName?: string | null;
  };
  /** Server-made audit label (`subscription studyEvents`). */
  operation: string;
}

/** One fanned-out event, for metrics. */
export interface FanOutEvent {
  topic: string;
  /** Executions: one per group of recipients (document, variables, role). */
  groups: number;
  /** Frames handed to sockets. */
  deliveries: number;
  /** From the event's arrival in this process to its last frame handed to a socket. */
  durationMs: number;
}

/** Why a frame was not sent. */
export type DropReason = 'slow_consumer' | 'queue_full' | 'revoked';

/** What fan-out reports (metrics); implementations must be cheap and must not throw. */
export interface FanOutObserver {
  eventDelivered(event: FanOutEvent): void;
  /** Frames (or, for `queue_full`, events) not sent. */
  dropped(reason: DropReason, count: number): void;
  /** A connection was closed with {@link SLOW_CONSUMER_CLOSE_CODE}. */
  slowConsumerClosed(): void;
}

/** Sizes at this moment, for gauges. */
export interface FanOutStats {
  connections: number;
  subscriptions: number;
  groups: number;
  /** Events received and not yet delivered. */
  queuedEvents: number;
}

/** What fan-out needs from the rest of the app. */
export interface FanOutDeps {
  /** Calls the handler with each payload of a topic (one listener per topic, never buffered per subscriber). */
  listen(topic: string, handler: (payload: unknown) => void): () => void;
  /** A fresh request context for one event: its unit of work and loaders are shared by every group. */
  createEventContext(requestId: string): RequestContext;
  /** The context one group executes in (its own principal and audit collector, the event's unit of work). */
  createGroupContext(principal: Principal, shared: RequestContext): GraphQLContext;
  /** The one error formatter (codes, no PHI). */
  formatError(error: GraphQLError): Record<string, unknown>;
  audit: DeliveryAuditSink;
  logger: Logger;
  observer?: FanOutObserver;
  limits: {
    /** Bytes that may wait to be sent to one connection; beyond, it is closed as a slow consumer. */
    slowConsumerBytes: number;
    /** Events executed at once (each holds at most a few pooled database connections). */
    executionConcurrency: number;
    /** Events received and not yet delivered; beyond, new events are dropped (and counted). */
    maxQueuedEvents: number;
  };
}

/** Frames handed to sockets between two yields to the event loop (requests run in between). */
const SEND_SLICE = 128;

/** Milliseconds of delivery work between two yields to the event loop. */
const SEND_SLICE_MS = 4;

/**
 * The principal a group executes under: only its role. Payload resolvers may depend on the role
 * (what it may read), never on who the user is, because one execution serves every user of the
 * group; reading `userId` throws, so a resolver that would leak one user's view to another fails
 * loudly instead.
 */
export function rolePrincipal(role: Role): Principal {
  const refuse = (): never => {
    throw new Error(
      'A subscription payload is resolved once per role and shared: it cannot depend on the user',
    );
  };
  return Object.freeze({
    role,
    get userId(): string {
      return refuse();
    },
    get tokenId(): string {
      return refuse();
    },
  }) as Principal;
}

/** JSON with object keys sorted, so equal variables give equal keys. */
function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** Subscribers that share one execution per event: the same document, variables and role. */
class Group {
  readonly subscribers = new Set<Subscriber>();
  readonly principal: Principal;

  constructor(
    readonly key: string,
    readonly topic: string,
    readonly role: Role,
    readonly stream: TopicStream,
    readonly execution: SubscriptionSpec['execution'],
    readonly operation: string,
  ) {
    this.principal = rolePrincipal(role);
  }
}

/** One subscription of one connection. */
interface Subscriber {
  readonly group: Group;
  readonly connection: FanOutConnection;
  /** `{"id":"…","type":"next","payload":` — the frame is this, the shared payload, and `}`. */
  readonly prefix: string;
  readonly recipient: DeliveryRecipient;
}

/** A frame held while the connection's user is re-checked, with what its audit needs. */
interface HeldFrame {
  frame: string;
  at: Date;
  operation: string;
  entries: readonly AuditEntry[];
  recipient: DeliveryRecipient;
}

/**
 * One transport connection as fan-out sees it: its subscriptions, how many bytes wait for it, and
 * whether deliveries are held (its user is being re-checked) or it is closed.
 */
export class FanOutConnection {
  readonly subscribers = new Set<Subscriber>();
  private held: HeldFrame[] = [];
  private heldBytes = 0;
  private suspended = 0;
  private closed = false;

  constructor(
    private readonly hub: SubscriptionFanOut,
    private readonly sink: FrameSink,
  ) {}

  /** False once closed (by fan-out, by the transport or by the peer). */
  get open(): boolean {
    return !this.closed;
  }

  /**
   * Holds deliveries until {@link resume} (or {@link close}): while its user is re-checked after a
   * change, nothing reaches the socket. Calls nest.
   */
  suspend(): void {
    this.suspended++;
  }

  /** Sends what was held (and records its audit rows) once no check holds it any more. */
  resume(): void {
    if (this.suspended > 0) this.suspended--;
    if (this.suspended || this.closed) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) {
      this.sink.send(h.frame);
      this.hub.recordDelivery(h.at, h.operation, h.entries, [h.recipient]);
    }
  }

  /**
   * Hands one frame to the socket, or holds it while suspended. A connection with more than the
   * limit waiting is closed as a slow consumer instead. Returns whether it was sent now.
   */
  deliver(frame: string, held: Omit<HeldFrame, 'frame'>): 'sent' | 'held' | 'dropped' {
    if (this.closed) return 'dropped';
    if (this.sink.bufferedBytes() + this.heldBytes + frame.length > this.hub.slowConsumerBytes) {
      this.close(SLOW_CONSUMER_CLOSE_CODE, 'Slow consumer: events were not read in time');
      this.hub.slowConsumer();
      return 'dropped';
    }
    if (this.suspended) {
      this.held.push({ frame, ...held });
      this.heldBytes += frame.length;
      return 'held';
    }
    this.sink.send(frame);
    return 'sent';
  }

  /**
   * Ends every subscription of the connection at once (no event reaches it after this call) and
   * closes the socket with `code`. Frames held are dropped. Idempotent.
   */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.detach();
    if (this.held.length) this.hub.observeDrop('revoked', this.held.length);
    this.held = [];
    this.heldBytes = 0;
    this.sink.close(code, reason);
  }

  /** Ends every subscription without closing the socket (the socket closed by itself). Idempotent. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    for (const subscriber of [...this.subscribers]) this.hub.unsubscribe(subscriber);
    this.hub.disconnected(this);
  }
}

/** A topic's groups, indexed by the key their filter gives (broadcast groups have none). */
class TopicIndex {
  readonly broadcast = new Set<Group>();
  readonly byKey = new Map<string, Set<Group>>();
  readonly groups = new Map<string, Group>();
  /** The distinct event-key functions of the indexed groups, with how many groups use each. */
  private readonly extractors = new Map<(payload: unknown) => string[], number>();

  add(group: Group): void {
    this.groups.set(group.key, group);
    const key = group.stream.indexKey;
    if (key === null) {
      this.broadcast.add(group);
      return;
    }
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(group);
    const keys = group.stream.eventKeys;
    this.extractors.set(keys, (this.extractors.get(keys) ?? 0) + 1);
  }

  remove(group: Group): void {
    this.groups.delete(group.key);
    const key = group.stream.indexKey;
    if (key === null) {
      this.broadcast.delete(group);
      return;
    }
    const set = this.byKey.get(key);
    set?.delete(group);
    if (set && !set.size) this.byKey.delete(key);
    const keys = group.stream.eventKeys;
    const left = (this.extractors.get(keys) ?? 1) - 1;
    if (left > 0) this.extractors.set(keys, left);
    else this.extractors.delete(keys);
  }

  /**
   * The groups an event is for: broadcast ones and those under its keys, each passing its filter. A
   * filter that throws skips its own group only (reported through `failed`).
   */
  match(payload: unknown, failed: (error: unknown) => void): Group[] {
    const accepts = (group: Group): boolean => {
      try {
        return group.stream.accept(payload);
      } catch (error) {
        failed(error);
        return false;
      }
    };
    const found: Group[] = [];
    for (const group of this.broadcast) if (accepts(group)) found.push(group);
    if (!this.extractors.size) return found;
    const seen = new Set<Group>();
    for (const eventKeys of this.extractors.keys())
      for (const key of eventKeys(payload))
        for (const group of this.byKey.get(key) ?? [])
          if (!seen.has(group) && accepts(group)) {
            seen.add(group);
            found.push(group);
          }
    return found;
  }
}

/** An event between its arrival and its delivery. */
interface QueuedEvent {
  topic: string;
  payload: unknown;
  groups: Group[];
  receivedAt: number;
}

/** A group's payload for one event: the frame's shared part and what was read to build it. */
interface Prepared {
  group: Group;
  json: string;
  entries: AuditEntry[];
}

/**
 * Subscription fan-out (Hasura-style multiplexing). One listener per topic and process; subscribers
 * are grouped by (document, variables, role) and indexed by their filter's key. Each event is
 * executed once per matching group, in a context whose unit of work every group of the event shares
 * (each record read once per event), serialised once, and its frame handed to each subscriber's
 * socket without waiting for the peer. What was read is audited per recipient in batches
 * ({@link DeliveryAuditSink}). A connection with more than `slowConsumerBytes` waiting is closed with
 * {@link SLOW_CONSUMER_CLOSE_CODE}; events beyond `maxQueuedEvents` are dropped and counted: no
 * consumer can make the process buffer without bound. Scheduling keeps requests served while streams
 * are busy: at most `executionConcurrency` events execute at once (each on the shared database pool),
 * deliveries keep arrival order, and sending yields to the event loop every few milliseconds.
 */
export class SubscriptionFanOut {
  private readonly topics = new Map<string, TopicIndex>();
  private readonly listeners: (() => void)[] = [];
  private readonly connections = new Set<FanOutConnection>();
  private subscriptionCount = 0;
  private readonly waiting: QueuedEvent[] = [];
  private waitingHead = 0;
  private queued = 0;
  private running = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private eventCounter = 0;

  constructor(private readonly deps: FanOutDeps) {}

  /** Bytes that may wait for one connection. */
  get slowConsumerBytes(): number {
    return this.deps.limits.slowConsumerBytes;
  }

  /** Starts tracking a transport connection. */
  connect(sink: FrameSink): FanOutConnection {
    const connection = new FanOutConnection(this, sink);
    this.connections.add(connection);
    return connection;
  }

  /**
   * Registers one subscription of a connection; returns the function that ends it (idempotent).
   * From this call on, the subscription receives every event of its topic its filter accepts.
   */
  subscribe<TPayload>(connection: FanOutConnection, spec: SubscriptionSpec<TPayload>): () => void {
    if (!connection.open || this.closed) return () => undefined;
    const { execution, principal } = spec;
    // Every payload of a topic is its TPayload: the index hands the stream only its own topic's events.
    const stream = spec.stream as unknown as TopicStream;
    const key = [
      principal.role,
      execution.operationName ?? '',
      stableJson(execution.variableValues ?? {}),
      print(execution.document),
    ].join('\u0000');
    let index = this.topics.get(stream.topic);
    if (!index) {
      index = new TopicIndex();
      this.topics.set(stream.topic, index);
      const topic = stream.topic;
      this.listeners.push(this.deps.listen(topic, (payload) => this.onEvent(topic, payload)));
    }
    let group = index.groups.get(key);
    if (!group) {
      group = new Group(key, stream.topic, principal.role, stream, execution, spec.operation);
      index.add(group);
    }
    const subscriber: Subscriber = {
      group,
      connection,
      prefix: `{"id":${JSON.stringify(spec.id)},"type":"next","payload":`,
      recipient: { userId: principal.userId, role: principal.role, requestId: spec.requestId },
    };
    group.subscribers.add(subscriber);
    connection.subscribers.add(subscriber);
    this.subscriptionCount++;
    return () => this.unsubscribe(subscriber);
  }

  /** Ends one subscription (idempotent). */
  unsubscribe(subscriber: Subscriber): void {
    if (!subscriber.connection.subscribers.delete(subscriber)) return;
    this.subscriptionCount--;
    const { group } = subscriber;
    group.subscribers.delete(subscriber);
    if (!group.subscribers.size) this.topics.get(group.topic)?.remove(group);
  }

  /** @internal A connection closed. */
  disconnected(connection: FanOutConnection): void {
    this.connections.delete(connection);
  }

  /** @internal Counts a slow consumer closed. */
  slowConsumer(): void {
    this.deps.observer?.slowConsumerClosed();
    this.deps.observer?.dropped('slow_consumer', 1);
  }

  /** @internal Counts frames not sent. */
  observeDrop(reason: DropReason, count: number): void {
    this.deps.observer?.dropped(reason, count);
  }

  /** @internal Records the audit rows of frames handed to their recipients. */
  recordDelivery(
    at: Date,
    operation: string,
    entries: readonly AuditEntry[],
    recipients: readonly DeliveryRecipient[],
  ): void {
    if (!entries.length || !recipients.length) return;
    try {
      this.deps.audit.record({ at, operation, entries, recipients });
    } catch (error) {
      this.deps.logger.error({ err: loggableError(error) }, 'failed to record subscription audit rows');
    }
  }

  /** Connections, subscriptions, groups and queued events now. */
  stats(): FanOutStats {
    let groups = 0;
    for (const index of this.topics.values()) groups += index.groups.size;
    return {
      connections: this.connections.size,
      subscriptions: this.subscriptionCount,
      groups,
      queuedEvents: this.queued,
    };
  }

  /** Resolves once every event received so far has been delivered (tests, benchmarks, shutdown). */
  async drain(): Promise<void> {
    while (this.queued > 0) await this.chain;
  }

  /** Stops listening and ends every connection's subscriptions (the transport closes the sockets). */
  async close(): Promise<void> {
    this.closed = true;
    for (const stop of this.listeners.splice(0)) stop();
    this.waiting.length = 0;
    this.waitingHead = 0;
    await this.chain;
  }

  /** A topic's event arrived (once per process): find its groups now, execute and deliver in order. */
  private onEvent(topic: string, payload: unknown): void {
    try {
      if (this.closed) return;
      const groups =
        this.topics
          .get(topic)
          ?.match(payload, (error) =>
            this.deps.logger.error({ err: loggableError(error), topic }, 'subscription filter failed'),
          ) ?? [];
      if (!groups.length) return;
      if (this.queued >= this.deps.limits.maxQueuedEvents) {
        this.deps.observer?.dropped('queue_full', 1);
        this.deps.logger.warn(
          { topic, queued: this.queued },
          'subscription event dropped: fan-out queue full',
        );
        return;
      }
      this.queued++;
      this.waiting.push({ topic, payload, groups, receivedAt: performance.now() });
      this.pump();
    } catch (error) {
      // A listener must never throw: the event target would turn it into an uncaught exception.
      this.deps.logger.error({ err: loggableError(error), topic }, 'subscription event not delivered');
    }
  }

  /** Starts executing waiting events up to the concurrency limit; deliveries chain in arrival order. */
  private pump(): void {
    while (this.running < this.deps.limits.executionConcurrency && this.waitingHead < this.waiting.length) {
      const item = this.waiting[this.waitingHead++]!;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingHead);
        this.waitingHead = 0;
      }
      this.running++;
      const prepared = this.prepare(item).finally(() => {
        this.running--;
        this.pump();
      });
      this.chain = this.chain
        .then(async () => this.deliver(item, await prepared))
        .catch((error: unknown) =>
          this.deps.logger.error(
            { err: loggableError(error), topic: item.topic },
            'subscription event not delivered',
          ),
        )
        .finally(() => {
          this.queued--;
        });
    }
  }

  /** Executes the event once per group, in one shared unit of work, and serialises each result once. */
  private async prepare(item: QueuedEvent): Promise<Prepared[]> {
    const shared = this.deps.createEventContext(`event-${++this.eventCounter}`);
    const run = (group: Group) => this.execute(group, item.payload, shared);
    // The first group reads the event's records; the others find them in the shared unit of work.
    const [first, ...rest] = item.groups;
    const results = [await run(first!)];
    if (rest.length) results.push(...(await Promise.all(rest.map(run))));
    return results;
  }

  private async execute(group: Group, payload: unknown, shared: RequestContext): Promise<Prepared> {
    const ctx = this.deps.createGroupContext(group.principal, shared);
    ctx.audit.operation = group.operation;
    let result: ExecutionResult;
    try {
      result = await execute({ ...group.execution, rootValue: payload, contextValue: ctx });
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      result = { errors: [new GraphQLError(cause.message, { originalError: cause })] };
    }
    auditDenials(ctx.audit, result.errors);
    const body: Record<string, unknown> = { data: result.data ?? null };
    if (result.errors?.length) body.errors = result.errors.map((e) => this.deps.formatError(e));
    return { group, json: JSON.stringify(body), entries: ctx.audit.take() };
  }

  /** Hands each group's frame to its subscribers' sockets, yielding to the event loop between slices. */
  private async deliver(item: QueuedEvent, prepared: Prepared[]): Promise<void> {
    const at = new Date();
    let deliveries = 0;
    let sliceStart = performance.now();
    let inSlice = 0;
    for (const { group, json, entries } of prepared) {
      const recipients: DeliveryRecipient[] = [];
      const suffix = `${json}}`;
      const held = { at, operation: group.operation, entries };
      for (const subscriber of [...group.subscribers]) {
        const outcome = subscriber.connection.deliver(subscriber.prefix + suffix, {
          ...held,
          recipient: subscriber.recipient,
        });
        if (outcome === 'sent') {
          recipients.push(subscriber.recipient);
          deliveries++;
        }
        if (++inSlice >= SEND_SLICE || performance.now() - sliceStart >= SEND_SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          inSlice = 0;
          sliceStart = performance.now();
        }
      }
      this.recordDelivery(at, group.operation, entries, recipients);
    }
    this.deps.observer?.eventDelivered({
      topic: item.topic,
      groups: prepared.length,
      deliveries,
      durationMs: performance.now() - item.receivedAt,
    });
  }
}

import { createPubSub, filter, pipe } from '@graphql-yoga/subscription';
import type { PubSub } from 'type-graphql';
import type { DbNotification } from '../domain/shared/event-publisher';
import type { Logger } from '../logging/logger';
import { PgEventTarget } from './pg-event-target';

/** A PubSub plus the resources to release at shutdown. */
export interface AppPubSub {
  pubSub: PubSub;
  /**
   * Calls `handler` with each payload published on `topic` (from any process), in order, without a
   * per-listener buffer: what subscription fan-out uses (one listener per topic and process, however
   * many subscribers). A handler must not throw. Returns the function that stops listening.
   */
  listen(topic: string, handler: (payload: unknown) => void): () => void;
  /**
   * With the `postgres` driver: an event as the notification a write sends in its own statement, so it
   * is published exactly when the write commits (null when too large; absent in memory).
   */
  notification?(topic: string, payload: Record<string, unknown>): DbNotification | null;
  close(): Promise<void>;
}

/** {@link AppPubSub.listen} over an event target. */
function listenOn(target: EventTarget) {
  return (topic: string, handler: (payload: unknown) => void): (() => void) => {
    const listener = (event: Event) => handler((event as CustomEvent).detail);
    target.addEventListener(topic, listener);
    return () => target.removeEventListener(topic, listener);
  };
}

/**
 * Creates the PubSub for subscriptions: PostgreSQL LISTEN/NOTIFY across processes (`postgres`), or
 * in-process (`memory`, for the embedded single-process mode).
 */
export async function createAppPubSub(
  driver: 'postgres' | 'memory',
  url: string,
  logger: Logger,
): Promise<AppPubSub> {
  if (driver === 'memory') {
    const target = new EventTarget();
    return {
      pubSub: createPubSub({ eventTarget: target as never }) as unknown as PubSub,
      listen: listenOn(target),
      close: async () => undefined,
    };
  }
  const eventTarget = new PgEventTarget(url, logger);
  await eventTarget.start();
  return {
    pubSub: createPubSub({ eventTarget: eventTarget as never }) as unknown as PubSub,
    listen: listenOn(eventTarget),
    notification: (topic, payload) => eventTarget.notification(topic, payload),
    close: () => eventTarget.close(),
  };
}

/**
 * An in-process PubSub, delivering within this process only: the schema's default when the caller
 * gives none (schema emission, schema tests).
 */
export function createLocalPubSub(): PubSub {
  return createPubSub() as unknown as PubSub;
}

/**
 * The payloads published on `topic` that pass `accept`, as one filtered listener: what a subscription
 * executed outside fan-out iterates.
 */
export function filteredSubscription<TPayload>(
  pubSub: PubSub,
  topic: string,
  accept: (payload: TPayload) => boolean,
): AsyncIterable<TPayload> {
  return pipe(
    pubSub.subscribe(topic) as never,
    filter((payload: TPayload) => accept(payload)),
  ) as AsyncIterable<TPayload>;
}

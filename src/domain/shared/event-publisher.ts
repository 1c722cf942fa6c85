/**
 * An event as a PostgreSQL notification: sent by the statement that writes what the event announces,
 * it is delivered when that write commits and never when it does not.
 */
export interface DbNotification {
  channel: string;
  payload: string;
}

/** Port through which services announce events after their transaction commits. */
export interface EventPublisher {
  publish(topic: string, payload: Record<string, unknown>): void;
  /**
   * The event as a notification for the write that records it to carry, where events travel through
   * the database; absent, or null (an in-process bus, a payload too large), means publish after the commit.
   */
  notification?(topic: string, payload: Record<string, unknown>): DbNotification | null;
}

/**
 * Port through which a service follows the events of a topic published by any process (the PubSub
 * adapter in `src/pubsub/` implements it); the iterator ends when the service returns it.
 */
export interface EventSubscriber {
  subscribe(topic: string): AsyncIterable<unknown>;
}

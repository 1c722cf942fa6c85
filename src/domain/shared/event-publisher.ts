/** Port through which services announce events after their transaction commits. */
export interface EventPublisher {
  publish(topic: string, payload: Record<string, unknown>): void;
}

/**
 * Port through which a service follows the events of a topic published by any process (the PubSub
 * adapter in `src/pubsub/` implements it); the iterator ends when the service returns it.
 */
export interface EventSubscriber {
  subscribe(topic: string): AsyncIterable<unknown>;
}

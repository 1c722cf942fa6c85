/** Port through which services announce events after their transaction commits. */
export interface EventPublisher {
  publish(topic: string, payload: Record<string, unknown>): void;
}

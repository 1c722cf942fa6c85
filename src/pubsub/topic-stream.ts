/**
 * Which events of a topic a subscription wants, given its arguments: a predicate, or (indexable) a
 * map from argument name to the payload field it must equal when the argument is given
 * (`{ patientId: 'patientId' }`: an event reaches `studyEvents(patientId: "p1")` only when its
 * payload's `patientId` is "p1"; without the argument, every event).
 */
export type EventFilter<TPayload, TArgs> =
  ((payload: TPayload, args: TArgs) => boolean) | { readonly [A in keyof TArgs]?: keyof TPayload & string };

/**
 * What a subscription field's `subscribe` returns: the topic, the filter bound to the subscriber's
 * arguments, and the keys it is indexed by. Subscription fan-out (`http/subscription-fan-out.ts`)
 * reads these and never iterates it: one listener per topic and process serves every subscriber,
 * and subscribers are found by key instead of each testing every event. Iterating it (a subscription
 * executed outside fan-out) opens one PubSub listener, filtered, as graphql-js expects.
 */
export class TopicStream<TPayload = unknown> implements AsyncIterable<TPayload> {
  /**
   * @param topic - the PubSub topic
   * @param accept - whether an event of the topic is for this subscriber
   * @param indexKey - the key this subscriber is indexed under (`patientId=…`), or null when it takes
   *   every event that `accept` passes (a broadcast subscriber)
   * @param eventKeys - the index keys an event reaches (`patientId=<its patientId>`, …)
   * @param open - the plain PubSub source, for iteration outside fan-out
   */
  constructor(
    readonly topic: string,
    readonly accept: (payload: TPayload) => boolean,
    readonly indexKey: string | null,
    readonly eventKeys: (payload: TPayload) => string[],
    private readonly open: () => AsyncIterable<TPayload>,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<TPayload> {
    return this.open()[Symbol.asyncIterator]();
  }
}

/** Index key of one argument value; null and undefined never index. */
const keyOf = (arg: string, value: unknown): string => `${arg}=${String(value)}`;

/**
 * The event-key function of each field map, made once: it does not depend on a subscriber's
 * arguments, so every subscriber of a field shares it (fan-out computes an event's keys once per
 * distinct function, not once per subscriber).
 */
const eventKeysOf = new WeakMap<object, (payload: unknown) => string[]>();
const noKeys = (): string[] => [];

/**
 * Binds `filter` to one subscriber's `args`: the stream's `accept`, `indexKey` and `eventKeys`. With a
 * field map, the subscriber is indexed under the first argument it gives (in the map's order) and an
 * event reaches the keys of every mapped field; with a predicate, it is a broadcast subscriber.
 */
export function bindFilter<TPayload, TArgs>(
  filter: EventFilter<TPayload, TArgs> | undefined,
  args: TArgs,
): Pick<TopicStream<TPayload>, 'accept' | 'indexKey' | 'eventKeys'> {
  if (!filter) return { accept: () => true, indexKey: null, eventKeys: noKeys };
  if (typeof filter === 'function')
    return { accept: (payload) => filter(payload, args), indexKey: null, eventKeys: noKeys };
  const pairs = Object.entries(filter as Record<string, string>);
  let eventKeys = eventKeysOf.get(filter);
  if (!eventKeys) {
    eventKeys = (payload: unknown) =>
      pairs.flatMap(([arg, field]) => {
        const value = (payload as Record<string, unknown>)[field];
        return value === undefined || value === null ? [] : [keyOf(arg, value)];
      });
    eventKeysOf.set(filter, eventKeys);
  }
  const given = pairs.filter(([arg]) => {
    const value = (args as Record<string, unknown>)[arg];
    return value !== undefined && value !== null;
  });
  const wanted = given.map(([arg, field]) => [field, (args as Record<string, unknown>)[arg]] as const);
  return {
    accept: (payload) =>
      wanted.every(([field, value]) => (payload as Record<string, unknown>)[field] === value),
    indexKey: given.length ? keyOf(given[0]![0], (args as Record<string, unknown>)[given[0]![0]]) : null,
    eventKeys,
  };
}

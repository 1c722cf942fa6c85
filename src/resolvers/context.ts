import type { PubSub } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { Permission } from '../auth/policy';
import { assertPermission, Principal } from '../auth/principal';
import { AuditCollector } from '../domain/audit/audit.service';
import type { RequestContext } from '../domain/shared/request-context';
import { filteredSubscription } from '../pubsub/pubsub';
import { bindFilter, EventFilter, TopicStream } from '../pubsub/topic-stream';

/** GraphQL context: the request context plus what subscriptions need. */
export interface GraphQLContext extends RequestContext {
  /** The PubSub subscriptions read from. */
  pubSub: PubSub;
}

/**
 * The context one subscription event executes in for one group of recipients (same document,
 * variables and role): its own principal and audit collector, and the event's unit of work and
 * loaders, shared by every group of that event, so each record is read once per event and process
 * and every recipient sees the same state. What the collector gathers is written per recipient.
 */
export function eventContext(
  shared: RequestContext,
  principal: Principal,
  requestId: string,
  pubSub: PubSub,
): GraphQLContext {
  return {
    requestId,
    principal,
    audit: new AuditCollector(principal, requestId),
    get em() {
      return shared.em;
    },
    get loaders() {
      return shared.loaders;
    },
    pubSub,
  };
}

/**
 * Builds a subscription source: checks the subscriber's permissions once when it subscribes, then
 * streams the topic's payloads that pass `accept` for the subscription's arguments. Give `accept` as
 * a map from argument to payload field (`{ patientId: 'patientId' }`) and subscribers are indexed by
 * it: an event finds its subscribers by key instead of testing every one.
 */
export function subscribeTo<TPayload, TArgs = Record<string, unknown>>(
  topic: string,
  permissions: Permission[],
  accept?: EventFilter<TPayload, TArgs>,
) {
  return ({
    args,
    context,
  }: SubscribeResolverData<unknown, TArgs, GraphQLContext>): TopicStream<TPayload> => {
    for (const permission of permissions) assertPermission(context.principal, permission);
    const bound = bindFilter(accept, args);
    return new TopicStream<TPayload>(topic, bound.accept, bound.indexKey, bound.eventKeys, () =>
      filteredSubscription(context.pubSub, topic, bound.accept),
    );
  };
}

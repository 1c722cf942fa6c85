import { filter, pipe } from '@graphql-yoga/subscription';
import type { PubSub } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { Permission } from '../auth/policy';
import { assertPermission } from '../auth/principal';
import type { RequestContext } from '../domain/shared/request-context';

/** GraphQL context: the request context plus what subscriptions need. */
export interface GraphQLContext extends RequestContext {
  /** Opens a new request context for the same principal (used per delivered subscription event). */
  renew(): RequestContext;
  /** The PubSub subscriptions read from. */
  pubSub: PubSub;
}

/**
 * Builds a subscription source: checks the subscriber's permissions once when it subscribes, then
 * yields the topic's payloads that pass `accept` for the subscription's arguments.
 */
export function subscribeTo<TPayload, TArgs = Record<string, unknown>>(
  topic: string,
  permissions: Permission[],
  accept: (payload: TPayload, args: TArgs) => boolean = () => true,
) {
  return ({
    args,
    context,
  }: SubscribeResolverData<unknown, TArgs, GraphQLContext>): AsyncIterable<TPayload> => {
    for (const permission of permissions) assertPermission(context.principal, permission);
    const source = context.pubSub.subscribe(topic) as AsyncIterable<TPayload>;
    return pipe(
      source as never,
      filter((payload: TPayload) => accept(payload, args)),
    ) as AsyncIterable<TPayload>;
  };
}

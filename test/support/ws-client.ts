import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** A subscription's received events, with a way to wait for one that matches. */
export interface Subscription<T> {
  events: T[];
  errors: unknown[];
  waitFor(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  close(): void;
}

/** Opens a graphql-ws client against `baseUrl` with the token in connectionParams. */
export function wsClient(baseUrl: string, token: string | null, onClosed?: (code: number) => void): Client {
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    on: { closed: (event) => onClosed?.((event as { code: number }).code) },
  });
}

/**
 * Subscribes and collects `data` payloads. graphql-ws gives no acknowledgement per subscription, so
 * tests publish until the first event arrives (see {@link untilReceived}).
 */
export async function subscribe<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Subscription<T>> {
  const events: T[] = [];
  const errors: unknown[] = [];
  const waiters: { predicate: (e: T) => boolean; resolve: (e: T) => void }[] = [];
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) {
          const event = value.data as T;
          events.push(event);
          for (const w of [...waiters])
            if (w.predicate(event)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(event);
            }
        }
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return {
    events,
    errors,
    waitFor(predicate, timeoutMs = 10_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)} errors ${JSON.stringify(errors)}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    close: () => dispose(),
  };
}

/**
 * Repeats `act` (e.g. a mutation) until the subscription receives an event matching `predicate`:
 * the first attempts may run before the server has registered the subscription.
 */
export async function untilReceived<T>(
  sub: Subscription<T>,
  act: (attempt: number) => Promise<(event: T) => boolean>,
  attempts = 20,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const predicate = await act(attempt);
    try {
      return await sub.waitFor(predicate, 500);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** A GraphQL error as the server formats it. */
export interface WireError {
  message: string;
  extensions?: { code?: string; details?: Record<string, unknown> };
}

/** A graphql-ws connection over a real socket, with promises for its life-cycle events. */
export interface WsConnection {
  client: Client;
  /** Resolves when the server acknowledged `connection_init`. */
  connected: Promise<void>;
  /** Resolves with the close code once the socket closes. */
  closed: Promise<number>;
  /** Disposes the client (closes the socket with 1000). */
  dispose(): Promise<void>;
}

/** One subscription's deliveries. */
export interface WsSubscription<T> {
  /** `data` payloads received, in order. */
  events: T[];
  /** Errors received: execution errors inside `next` and `error` messages, flattened. */
  errors: WireError[];
  /** Resolves with the first event matching `predicate`, or rejects after `timeoutMs`. */
  waitForEvent(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves with the errors once any arrive, or rejects after `timeoutMs`. */
  waitForErrors(timeoutMs?: number): Promise<WireError[]>;
  /** Stops the subscription. */
  stop(): void;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens an eager graphql-ws client to `<baseUrl>/graphql` with the given connection params and no
 * retries, so a refused connection surfaces as a close code instead of a reconnect loop.
 */
export function connectWs(baseUrl: string, connectionParams: Record<string, unknown>): WsConnection {
  let onConnected!: () => void;
  let onClosed!: (code: number) => void;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    on: {
      connected: () => onConnected(),
      closed: (event) => onClosed((event as { code: number }).code),
    },
  });
  return { client, connected, closed, dispose: () => Promise.resolve(client.dispose()) };
}

/** Waits for a connection to close and returns its close code. */
export function waitForClose(connection: WsConnection, timeoutMs = 10_000): Promise<number> {
  return withTimeout(connection.closed, timeoutMs, () => 'the socket to close');
}

/** Subscribes and records every delivery; see {@link WsSubscription}. */
export function subscribe<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): WsSubscription<T> {
  const events: T[] = [];
  const errors: WireError[] = [];
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...(value.errors as unknown as WireError[]));
        if (value.data) events.push(value.data as T);
        notify();
      },
      error: (error) => {
        if (Array.isArray(error)) errors.push(...(error as WireError[]));
        else errors.push({ message: String((error as Error)?.message ?? error) });
        notify();
      },
      complete: () => notify(),
    },
  );
  const waitUntil = <R>(check: () => R | undefined, timeoutMs: number, what: () => string): Promise<R> => {
    let listener!: () => void;
    const found = new Promise<R>((resolve) => {
      listener = () => {
        const value = check();
        if (value !== undefined) resolve(value);
      };
      listeners.add(listener);
      listener();
    });
    return withTimeout(found, timeoutMs, what).finally(() => listeners.delete(listener));
  };
  return {
    events,
    errors,
    waitForEvent: (predicate, timeoutMs = 10_000) =>
      waitUntil(
        () => events.find(predicate),
        timeoutMs,
        () => `a matching event (got ${events.length} events, errors ${JSON.stringify(errors)})`,
      ),
    waitForErrors: (timeoutMs = 10_000) =>
      waitUntil(
        () => (errors.length ? errors : undefined),
        timeoutMs,
        () => 'an error',
      ),
    stop,
  };
}

/**
 * Repeats `act` until the subscription delivers a matching event. graphql-ws does not acknowledge a
 * subscription, so the first actions may run before the server has registered it.
 */
export async function actUntilReceived<T>(
  sub: WsSubscription<T>,
  act: () => Promise<(event: T) => boolean>,
  attempts = 20,
  perAttemptMs = 500,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const predicate = await act();
    try {
      return await sub.waitForEvent(predicate, perAttemptMs);
    } catch (error) {
      if (sub.errors.length) throw new Error(`subscription failed: ${JSON.stringify(sub.errors)}`);
      last = error;
    }
  }
  throw last;
}

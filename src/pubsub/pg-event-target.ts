import { Client, Pool } from 'pg';
import type { DbNotification } from '../domain/shared/event-publisher';
import type { Logger } from '../logging/logger';

/** Name of the PostgreSQL NOTIFY channel all processes share. */
const NOTIFY_CHANNEL = 'care_companion_events';
/** PostgreSQL rejects NOTIFY payloads of 8000 bytes or more; events carry ids, not documents. */
const MAX_PAYLOAD_BYTES = 7900;
/** Most notifications sent in one statement. */
const MAX_BATCH = 200;

/**
 * An EventTarget whose events travel through PostgreSQL LISTEN/NOTIFY, so a subscription on one API
 * process sees an event published by another. Local listeners are called only when the notification
 * comes back from the database: one path for all processes, and an event is delivered once per process.
 * The listening connection reconnects with back-off when PostgreSQL restarts. Events published in the
 * same turn of the event loop go out in one statement (in order), so a request that publishes two, or
 * a burst of requests, costs one round trip instead of one each.
 */
export class PgEventTarget extends EventTarget {
  private client: Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly publisher: Pool;
  /** Payloads waiting for this turn's statement. */
  private outbox: { payload: string; type: string }[] = [];
  /** The statements, one after another so notifications keep their order (close waits for it). */
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {
    super();
    // One statement at a time (see sendOutbox): one connection.
    this.publisher = new Pool({ connectionString: url, max: 1 });
    this.publisher.on('error', (error) =>
      this.logger.warn({ err: error.message }, 'pubsub publisher connection failed'),
    );
  }

  /** Opens the LISTEN connection; resolves once notifications flow. */
  async start(): Promise<void> {
    await this.connectListener();
  }

  private async connectListener(): Promise<void> {
    const client = new Client({ connectionString: this.url });
    client.on('notification', (msg) => this.onNotification(msg.payload));
    client.on('error', (error) => {
      this.logger.warn({ err: error.message }, 'pubsub listener connection failed; reconnecting');
      this.scheduleReconnect();
    });
    client.on('end', () => this.scheduleReconnect());
    await client.connect();
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    this.client = client;
  }

  private scheduleReconnect(delayMs = 250): void {
    if (this.closed || this.reconnectTimer) return;
    this.client = null;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connectListener().catch((error: Error) => {
        this.logger.warn({ err: error.message }, 'pubsub reconnect failed');
        this.scheduleReconnect(Math.min(delayMs * 2, 5000));
      });
    }, delayMs);
  }

  private onNotification(payload: string | undefined): void {
    if (!payload) return;
    let parsed: { type: string; detail: unknown };
    try {
      parsed = JSON.parse(payload);
    } catch {
      this.logger.warn('ignored a malformed pubsub notification');
      return;
    }
    super.dispatchEvent(new CustomEvent(parsed.type, { detail: parsed.detail }));
  }

  /**
   * The event as the notification this target listens for, for a write to send in its own statement
   * (delivered here, as any other, when it comes back from the database); null when the payload is too
   * large for NOTIFY (logged).
   */
  notification(type: string, detail: unknown): DbNotification | null {
    const payload = JSON.stringify({ type, detail });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      this.logger.error(
        { type, bytes: Buffer.byteLength(payload) },
        'event payload too large for NOTIFY; dropped',
      );
      return null;
    }
    return { channel: NOTIFY_CHANNEL, payload };
  }

  /** Publishes the event to every process (this one included, via the database). */
  override dispatchEvent(event: Event): boolean {
    const notification = this.notification(event.type, (event as CustomEvent).detail);
    if (!notification) return false;
    if (this.outbox.length === 0) setImmediate(() => this.sendOutbox());
    this.outbox.push({ payload: notification.payload, type: event.type });
    return true;
  }

  /**
   * Sends the waiting payloads, in order, a statement per batch, each after the one before. PostgreSQL
   * delivers identical payloads of one transaction once, so a payload repeated within a batch starts
   * the next batch.
   */
  private sendOutbox(): void {
    const waiting = this.outbox;
    this.outbox = [];
    let batch: typeof waiting = [];
    let seen = new Set<string>();
    const send = () => {
      const sent = batch;
      this.sending = this.sending.then(() =>
        this.publisher
          .query({
            // Prepared once on the publisher's connection: planning it cost twice its execution.
            name: 'cc_notify',
            text: 'SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p',
            values: [NOTIFY_CHANNEL, sent.map((e) => e.payload)],
          })
          .catch((error: Error) => {
            for (const e of sent)
              this.logger.error({ err: error.message, type: e.type }, 'failed to publish event');
          }),
      );
    };
    for (const e of waiting) {
      if (seen.has(e.payload) || batch.length === MAX_BATCH) {
        send();
        batch = [];
        seen = new Set();
      }
      batch.push(e);
      seen.add(e.payload);
    }
    if (batch.length) send();
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    this.closed = true;
    // What was published before closing still goes out.
    this.sendOutbox();
    await this.sending;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await Promise.allSettled([this.client?.end(), this.publisher.end()]);
  }
}

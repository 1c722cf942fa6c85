import { mkdirSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL (PGlite) reachable over the wire protocol on loopback. */
export interface EmbeddedPostgres {
  url: string;
  /** Wire-protocol messages waiting for the backend (operations and tests). */
  stats(): { waiting: number; connections: number };
  stop(): Promise<void>;
}

/** Frontend messages of the extended query protocol that hold the backend until the sequence's Sync. */
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H', 'F', 'd', 'c', 'f'].map((c) => c.charCodeAt(0)));
const SYNC = 'S'.charCodeAt(0);
const QUERY = 'Q'.charCodeAt(0);

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Serialises the connections' wire-protocol messages onto PGlite's single backend, a whole exchange
 * at a time. pglite-socket's own queue interleaves connections message by message outside a
 * transaction, so one connection's Parse could run between another's Parse and Bind and take the
 * unnamed statement (regression: pg-boss on the embedded database logged `bind message supplies 3
 * parameters, but prepared statement "" requires 1`, left a job active and re-sent its event after
 * it expired). Here a connection that sends an extended-protocol message, or leaves a transaction
 * open, owns the backend until its Sync (and its transaction's end); the others wait their turn.
 */
class ExchangeQueue {
  private readonly queue: Pending[] = [];
  private owner: number | null = null;
  private running = false;

  constructor(private readonly db: PGlite) {}

  get waiting(): number {
    return this.queue.length;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.run();
    });
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.handlerId !== handlerId) continue;
      this.queue.splice(i, 1)[0]!.reject(new Error('connection closed'));
    }
  }

  /** A connection went away: roll back what it left open and give the backend to the others. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => undefined);
    this.owner = null;
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const index = this.owner === null ? 0 : this.queue.findIndex((p) => p.handlerId === this.owner);
        if (index < 0 || this.queue.length === 0) break;
        const item = this.queue.splice(index, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (error) {
          item.reject(error);
          continue;
        }
        const type = item.message[0]!;
        const inTransaction = this.db.isInTransaction();
        if (EXTENDED.has(type)) this.owner = item.handlerId;
        else if (type === SYNC || type === QUERY) this.owner = inTransaction ? item.handlerId : null;
        else if (inTransaction) this.owner = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * Starts PGlite with a socket server so the ordinary `pg` driver (and so MikroORM) can use it.
 * Used only when no DATABASE_URL is configured: development, demos and the test suite on a bare machine.
 * PGlite is a single-backend database multiplexed over connections ({@link ExchangeQueue}); LISTEN/NOTIFY
 * does not cross connections, so the composition root uses the in-memory PubSub with it.
 *
 * @param dataDir folder for the database files, or `memory://` for a throw-away database.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 8): Promise<EmbeddedPostgres> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  await db.waitReady;
  const queue = new ExchangeQueue(db);
  const handlers = new Set<PGLiteSocketHandler>();
  const server: Server = createServer((socket: Socket) => {
    if (handlers.size >= maxConnections) {
      socket.end();
      return;
    }
    const handler = new PGLiteSocketHandler({
      queryQueue: queue as unknown as ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'],
      closeOnDetach: true,
    });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    void handler.attach(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stats: () => ({ waiting: queue.waiting, connections: handlers.size }),
    async stop() {
      for (const handler of handlers) await handler.detach(true);
      handlers.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

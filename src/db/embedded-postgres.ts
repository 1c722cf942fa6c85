import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL (PGlite) reachable over the wire protocol on loopback. */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite with a socket server so the ordinary `pg` driver (and so MikroORM) can use it.
 * Used only when no DATABASE_URL is configured: development, demos and the test suite on a bare machine.
 * PGlite is a single-backend database multiplexed over connections; LISTEN/NOTIFY does not cross
 * connections, so the composition root uses the in-memory PubSub with it.
 *
 * @param dataDir folder for the database files, or `memory://` for a throw-away database.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 8): Promise<EmbeddedPostgres> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Binaries of the Debian PostgreSQL 15 server package. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster private to one test: its own folder and loopback port, so it can be stopped
 * and restarted without touching the shared server on 5432.
 */
export interface PrivatePostgres {
  /** URL of the `postgres` database on this cluster. */
  url: string;
  port: number;
  dir: string;
  /** Stops the server (`immediate`: like a crash, recovery replays the WAL at the next start). */
  stopServer(mode?: 'fast' | 'immediate'): void;
  startServer(): void;
  /** Stops the cluster and removes its folder. */
  destroy(): void;
}

/** True when the server binaries are installed. */
export function privatePostgresAvailable(): boolean {
  return existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_ctl'));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Creates and starts a cluster with trust authentication on 127.0.0.1. PostgreSQL refuses to run as
 * root, so under root the binaries run as the `postgres` user (as the machine's own cluster does).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'cc-pg-'));
  const data = join(dir, 'data');
  const run = (bin: string, args: string[]) => {
    const command = root ? 'runuser' : join(PG_BIN, bin);
    const argv = root ? ['-u', 'postgres', '--', join(PG_BIN, bin), ...args] : args;
    execFileSync(command, argv, { stdio: 'pipe', timeout: 120_000 });
  };
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const startServer = () =>
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  const stopServer = (mode: 'fast' | 'immediate' = 'fast') =>
    run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
  startServer();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stopServer,
    startServer,
    destroy() {
      try {
        stopServer('immediate');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

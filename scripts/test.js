#!/usr/bin/env node
/**
 * The test command (`npm test`). Uses DATABASE_URL when set; otherwise the local PostgreSQL on
 * 127.0.0.1:5432 when it answers; otherwise each test file starts an embedded PGlite. Extra arguments
 * go to jest (e.g. `npm test -- test/integration/api.test.ts`).
 */
const { spawnSync } = require('node:child_process');
const net = require('node:net');

function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

(async () => {
  const env = { ...process.env };
  if (!env.DATABASE_URL && (await reachable('127.0.0.1', 5432))) {
    env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
  }
  console.log(
    env.DATABASE_URL
      ? `tests: PostgreSQL at ${env.DATABASE_URL.replace(/\/\/[^@]*@/, '//')}`
      : 'tests: embedded PGlite (no PostgreSQL found)',
  );
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim();
  const args = ['jest', '--maxWorkers=2', ...process.argv.slice(2)];
  const result = spawnSync('npx', args, { stdio: 'inherit', env });
  process.exit(result.status ?? 1);
})();

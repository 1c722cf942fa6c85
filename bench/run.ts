/**
 * `npm run bench`: runs every benchmark in turn (each prints its table and writes bench/results/*.json).
 * Pass names to run some: `npm run bench -- engine e2e`. Each one measures its peer and ours in the
 * same run and prints ratios; nothing here asserts on time.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHES: Record<string, string> = {
  decode: 'decode.bench.ts',
  'decode-pool': 'decode-pool.bench.ts',
  engine: 'engine.bench.ts',
  'session-thread': 'session-thread.bench.ts',
  'graphql-overhead': 'graphql-overhead.bench.ts',
  e2e: 'e2e.bench.ts',
  dicomweb: 'dicomweb.bench.ts',
  rollout: 'rollout.bench.ts',
  'soak-fault': 'soak-fault.bench.ts',
  drift: 'drift.bench.ts',
  notes: 'notes.bench.ts',
  metrics: 'metrics.bench.ts',
  deidentify: 'deidentify.bench.ts',
  fanout: 'fanout.bench.ts',
  'decode-targets': 'decode-targets.bench.ts',
  peer: 'peer.bench.ts',
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(BENCHES);
let failed = 0;
for (const name of wanted) {
  const file = BENCHES[name];
  if (!file) {
    console.error(`unknown bench ${name}; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} (${file}) ===`);
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, file)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

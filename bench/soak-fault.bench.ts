/**
 * Soak and fault figures for the README: one API process under mixed load (queries, patients,
 * studies, uploads, attachments, analyses, batch jobs, a subscription) for SOAK_SECONDS (default 180)
 * with SOAK_WORKERS concurrent clients (default 3); its private PostgreSQL is stopped like a crash at a
 * third of the time for 4 s and started again. Prints requests by outcome, the outage, recovery time,
 * losses and RSS over time; writes bench/results/soak-fault.json. Loopback only; nothing here asserts
 * (test/integration/soak-fault.test.ts does, on a shorter run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RETRYABLE, runSoak, summarize } from '../test/support/soak';

async function main(): Promise<void> {
  const seconds = Number(process.env.SOAK_SECONDS ?? 180);
  const workers = Number(process.env.SOAK_WORKERS ?? 3);
  const report = await runSoak({ seconds, workers, outageMs: 4000 });
  const summary = summarize(report);
  const { downAt, upAt } = report.outage;
  const failures = report.requests.filter((r) => !r.accepted);
  const lastFailure = Math.max(0, ...failures.map((r) => r.endedAt));
  const latencies = report.requests.filter((r) => r.accepted).map((r) => r.endedAt - r.startedAt);
  latencies.sort((a, b) => a - b);
  const result = {
    ...summary,
    workers,
    requestsPerSecond: Math.round((summary.requests / seconds) * 10) / 10,
    acceptedLatencyMs: {
      p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
      p95: latencies[Math.floor(latencies.length * 0.95)] ?? 0,
      p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    },
    failures: failures.length,
    nonRetryableFailures: failures.filter((r) => !RETRYABLE.has(r.code ?? '')).length,
    hangs: failures.filter((r) => r.code === 'HANG').length,
    lastFailureAfterRestartMs: lastFailure ? lastFailure - upAt : 0,
    firstAcceptedAfterRestartMs:
      Math.min(...report.requests.filter((r) => r.accepted && r.startedAt >= upAt).map((r) => r.endedAt)) -
      upAt,
    failuresBeforeOutage: failures.filter((r) => r.endedAt < downAt).length,
    heapSamplesMib: report.heap
      .filter((_, i) => i % 2 === 0)
      .map((s) => [Math.round(s.at / 1000), Math.round(s.mib)]),
    rssSamplesMib: report.rss
      .filter((_, i) => i % 10 === 0)
      .map((s) => [Math.round(s.at / 1000), Math.round(s.mib)]),
  };
  console.log(JSON.stringify(result, null, 2));
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'soak-fault.json'),
    `${JSON.stringify({ measuredAt: new Date().toISOString(), ...result }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

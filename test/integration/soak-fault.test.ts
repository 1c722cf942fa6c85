/**
 * Soak and fault: sustained mixed load on one API process while its PostgreSQL (a private cluster on
 * a loopback port, never the shared one) is stopped like a crash and started again. The service
 * recovers by itself, no accepted write is lost, failures during the outage carry a retryable code
 * (never a hang, a 500 or a crash), batch jobs and subscriptions resume, and memory stays flat.
 * Longer runs with the figures: `npm run bench -- soak-fault` (SOAK_SECONDS).
 */
import { existsSync } from 'node:fs';
import { privatePostgresAvailable } from '../support/private-postgres';
import { RETRYABLE, runSoak, SoakReport, summarize } from '../support/soak';
import { requireOrSkip } from '../support/test-database';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);

describe('soak with a PostgreSQL restart', () => {
  const ready =
    requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained models under models/') &&
    requireOrSkip(
      privatePostgresAvailable(),
      'PostgreSQL 15 server binaries (Debian postgresql-15) for a private cluster',
    );
  let report: SoakReport;

  beforeAll(
    async () => {
      if (!ready) return;
      report = await runSoak({ seconds: SECONDS, workers: 3, outageMs: 4000 });
      console.log(`soak-fault summary ${JSON.stringify(summarize(report))}`);
      if (report.errorLogLines.length)
        console.log(
          `server error log lines:\n${report.errorLogLines
            .filter((l) => !l.startsWith('{'))
            .slice(0, 40)
            .join('\n')
            .slice(0, 6000)}`,
        );
    },
    (SECONDS + 240) * 1000,
  );

  it('kept serving: accepted requests before and after the outage, the server never exited', () => {
    if (!ready) return;
    expect(report.serverExitCode).toBeNull();
    const { downAt, upAt } = report.outage;
    expect(upAt - downAt).toBeGreaterThanOrEqual(4000);
    const acceptedBefore = report.requests.filter((r) => r.accepted && r.endedAt < downAt);
    const acceptedAfter = report.requests.filter((r) => r.accepted && r.startedAt > upAt);
    expect(acceptedBefore.length).toBeGreaterThan(10);
    expect(acceptedAfter.length).toBeGreaterThan(10);
    // Every kind of request was exercised and accepted at least once after the restart.
    for (const op of ['query', 'createPatient', 'createStudy', 'upload', 'attachImage', 'analyzeStudy'])
      expect([op, acceptedAfter.some((r) => r.op === op)]).toEqual([op, true]);
  });

  it('answered every failure with a retryable code, never a hang or a 500', () => {
    if (!ready) return;
    const failures = report.requests.filter((r) => !r.accepted);
    const unclear = failures.filter((r) => !RETRYABLE.has(r.code ?? ''));
    expect(unclear.map((r) => `${r.op} ${r.status} ${r.code}`)).toEqual([]);
    expect(failures.filter((r) => r.status >= 500 && r.status !== 503)).toEqual([]);
  });

  it('recovered by itself: no failure in requests started 10 s after PostgreSQL was back', () => {
    if (!ready) return;
    const late = report.requests.filter((r) => r.startedAt > report.outage.upAt + 10_000);
    expect(late.length).toBeGreaterThan(10);
    expect(late.filter((r) => !r.accepted).map((r) => `${r.op} ${r.code}`)).toEqual([]);
  });

  it('lost no accepted write, finished every accepted batch job, and resumed the subscription', () => {
    if (!ready) return;
    expect(report.lost).toEqual({
      createPatient: [],
      createStudy: [],
      attachImage: [],
      analyzeStudy: [],
      submitStudies: [],
    });
    expect(report.unfinishedJobs).toEqual([]);
    expect(report.eventsAfterRestart).toBeGreaterThan(0);
  });

  it('kept memory flat (generous bound: the last third within 1.5x of the first third + 64 MiB)', () => {
    if (!ready) return;
    const { rssMib } = summarize(report);
    expect(report.rss.length).toBeGreaterThan(SECONDS / 2);
    expect(rssMib.medianLastThird).toBeLessThan(rssMib.medianFirstThird * 1.5 + 64);
  });
});

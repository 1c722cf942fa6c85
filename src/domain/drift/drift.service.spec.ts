import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../logging/logger';
import { DriftSampleRepository } from './drift-sample.repository';
import { DriftOptions, DriftService } from './drift.service';

const OPTIONS: DriftOptions = {
  enabled: true,
  windowSize: 50,
  timeWindowMinutes: 0,
  minWindowSize: 20,
  alpha: 0.01,
  psiThreshold: 0.25,
  permutations: 100,
  sampleRetentionDays: 30,
  modelsDir: 'models',
};

const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn() } as unknown as Logger;

/**
 * A root EntityManager whose only database work is the count query of count-window checks (answered
 * with `samples`, after a tick, like a real round trip) and the hourly pruning, both asked through the
 * real {@link DriftSampleRepository}.
 */
function fakeRootEm(samples: () => number) {
  const queries: unknown[][] = [];
  const em = {
    fork: () => em,
    getRepository: () => samplesRepository,
    // As inside a transaction, the repository's prepared count goes through em.execute, answered here.
    isInTransaction: () => true,
    execute: async (sql: string, params: unknown[]) => {
      queries.push(params);
      expect(sql).toMatch(/count\(\*\)/);
      const n = Math.min(samples(), params[3] as number); // the snapshot the query sees
      await new Promise((r) => setImmediate(r));
      return [{ n }];
    },
    nativeDelete: async () => 0,
  };
  const samplesRepository = new DriftSampleRepository(em as unknown as EntityManager, 'DriftSample');
  return { em: em as unknown as EntityManager, queries };
}

describe('DriftService count-window scheduling', () => {
  it('answers a burst of predictions with one queued check, and evaluates only a complete window', async () => {
    let stored = 10;
    const { em, queries } = fakeRootEm(() => stored);
    const drift = new DriftService(em, { publish: () => undefined }, OPTIONS, logger);
    const evaluate = jest.spyOn(drift, 'evaluateCountWindows').mockResolvedValue([]);

    for (let i = 0; i < 40; i++) drift.recorded(['mv-1']);
    await drift.close();
    // The first check started at once; the other 39 calls found one queued and added nothing.
    expect(queries.length).toBeLessThanOrEqual(2);
    expect(queries[0]).toEqual(['mv-1', 'mv-1', 'COUNT', OPTIONS.windowSize]);
    expect(evaluate).not.toHaveBeenCalled(); // 10 samples < 50

    stored = 50;
    drift.recorded(['mv-1']);
    await drift.close();
    expect(evaluate).toHaveBeenCalledTimes(1);
    expect(evaluate).toHaveBeenCalledWith('mv-1');
  });

  it('checks again for a prediction recorded while a check is running (it may complete the window)', async () => {
    let stored = 49;
    const { em, queries } = fakeRootEm(() => stored);
    const drift = new DriftService(em, { publish: () => undefined }, OPTIONS, logger);
    const evaluate = jest.spyOn(drift, 'evaluateCountWindows').mockResolvedValue([]);

    drift.recorded(['mv-1']);
    await new Promise((r) => setImmediate(r)); // the first check has started (its query is in flight)
    stored = 50;
    drift.recorded(['mv-1']);
    await drift.close();
    expect(queries).toHaveLength(2);
    expect(evaluate).toHaveBeenCalledTimes(1);
  });

  it('keeps one queue per model version', async () => {
    const { em, queries } = fakeRootEm(() => 0);
    const drift = new DriftService(em, { publish: () => undefined }, OPTIONS, logger);
    for (let i = 0; i < 5; i++) drift.recorded(['mv-1', 'mv-2', 'mv-1']);
    await drift.close();
    expect(new Set(queries.map((q) => q[0]))).toEqual(new Set(['mv-1', 'mv-2']));
    expect(queries.length).toBeLessThanOrEqual(4);
  });
});

import type { ModelHealth } from '../inference/inference-engine';

/** What readiness looks at; each check is a port so a unit test can swap it. */
export interface ReadinessDeps {
  /** Resolves when the database answers a trivial query. */
  database(): Promise<unknown>;
  /** Resolves when the object store answers. */
  objectStore(): Promise<unknown>;
  /** Loaded model versions. */
  models(): ModelHealth[];
  /** Tasks that must have an active (default) model version, lower-case (`chest`, `wrist`). */
  requiredTasks: readonly string[];
  /** Longest wait for one check; a dependency that hangs counts as unavailable. */
  timeoutMs: number;
}

/** The readiness verdict and one line per check (no secrets, no PHI). */
export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

function within(promise: Promise<unknown>, ms: number): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => 'ok' as const),
    new Promise<'unavailable'>((resolve) => {
      timer = setTimeout(() => resolve('unavailable'), ms);
    }),
  ])
    .catch(() => 'unavailable' as const)
    .finally(() => clearTimeout(timer));
}

/**
 * Ready means this replica can serve an analysis: the database and the object store answer within
 * the timeout, and every required task has an active model version. A replica without a model for a
 * task would answer NO_MODEL_AVAILABLE / MODEL_NOT_LOADED for that task's studies, so it is taken out
 * of the load balancer until a version is loaded (liveness stays green: restarting would not help).
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const [database, objectStore] = await Promise.all([
    within(deps.database(), deps.timeoutMs),
    within(deps.objectStore(), deps.timeoutMs),
  ]);
  const models = deps.models();
  const listed = models.map(
    (m) =>
      `${m.task}@${m.version}${m.active ? '*' : ''} on ${m.provider}${m.precision === 'int8' ? ' (int8)' : ''}`,
  );
  const active = new Set(models.filter((m) => m.active && !m.draining).map((m) => m.task));
  const missing = deps.requiredTasks.filter((t) => !active.has(t));
  const checks: Record<string, string> = {
    database,
    objectStore,
    models: listed.length ? listed.join(', ') : 'none loaded',
    activeModels: missing.length ? `missing: ${missing.join(', ')}` : 'ok',
  };
  return { ok: database === 'ok' && objectStore === 'ok' && missing.length === 0, checks };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppOverrides } from '../../src/app';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * {@link startTestApp} without models, batch workers or drift checks: the security tests exercise
 * the API's doors, not inference, and start in a fraction of the time. `env` overrides.
 */
export async function startLightApp(
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
): Promise<TestApp> {
  const modelsDir = mkdtempSync(join(tmpdir(), 'cc-no-models-'));
  const t = await startTestApp(
    {
      MODELS_DIR: modelsDir,
      READY_REQUIRED_TASKS: '',
      ANALYSIS_WORKERS: '0',
      RETRAIN_WORKERS: '0',
      DRIFT_ENABLED: 'false',
      DECODE_WORKERS: '1',
      ...env,
    },
    overrides,
  );
  const stop = t.stop.bind(t);
  return Object.assign(t, {
    async stop() {
      await stop();
      rmSync(modelsDir, { recursive: true, force: true });
    },
  });
}

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { requireOrSkip } from './test-database';

/** Root of the shared data sets (CARE_SHARED_DIR, default ../shared beside the repository). */
export const SHARED_DIR = resolve(process.env.CARE_SHARED_DIR ?? join(__dirname, '..', '..', '..', 'shared'));

/** True when the shared data sets are present; skips loudly (fails under CI=true) otherwise. */
export function sharedDataAvailable(): boolean {
  return requireOrSkip(
    existsSync(join(SHARED_DIR, 'datasets')),
    `shared data sets not found at ${SHARED_DIR} (set CARE_SHARED_DIR)`,
  );
}

/** Reads a file under datasets/. */
export function sharedFile(relative: string): Buffer {
  return readFileSync(join(SHARED_DIR, 'datasets', relative));
}

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { requireOrSkip } from './test-database';

/** Root of the shared data sets (CARE_SHARED_DIR, default ../shared beside the repository). */
export const SHARED_DIR = resolve(process.env.CARE_SHARED_DIR ?? join(__dirname, '..', '..', '..', 'shared'));

/**
 * The small committed fixture set (`test/fixtures/`, see its README for provenance and licences). Its
 * paths mirror `datasets/` of the shared data, so `chest/kermany/test/NORMAL/IM-0001-0001.jpeg` names the
 * same film in both; the core suite reads only these and runs on a clone without `../shared`.
 */
export const FIXTURES_DIR = resolve(__dirname, '..', 'fixtures');

/** True when the shared data sets are present; skips loudly (fails under CI=true) otherwise. */
export function sharedDataAvailable(): boolean {
  return requireOrSkip(
    existsSync(join(SHARED_DIR, 'datasets')),
    `shared data sets not found at ${SHARED_DIR} (set CARE_SHARED_DIR)`,
  );
}

/** Reads a file under datasets/ of the shared data. */
export function sharedFile(relative: string): Buffer {
  return readFileSync(join(SHARED_DIR, 'datasets', relative));
}

/** Path of a committed fixture; throws when it is not committed (a core test must not need ../shared). */
export function fixturePath(relative: string): string {
  const file = join(FIXTURES_DIR, relative);
  if (!existsSync(file))
    throw new Error(`${relative} is not in test/fixtures/ (add it there, or read it with sharedFile)`);
  return file;
}

/** Reads a committed fixture (path relative to `test/fixtures/`, mirroring `datasets/`). */
export function fixtureFile(relative: string): Buffer {
  return readFileSync(fixturePath(relative));
}

/**
 * Path of a data set file for helpers that take either kind (`attach`, the imaging tests): the committed
 * fixture when there is one, else the file under the shared `datasets/`.
 */
export function datasetPath(relative: string): string {
  const fixture = join(FIXTURES_DIR, relative);
  return existsSync(fixture) ? fixture : join(SHARED_DIR, 'datasets', relative);
}

/** Reads a data set file through {@link datasetPath}. */
export function datasetFile(relative: string): Buffer {
  return readFileSync(datasetPath(relative));
}

/**
 * A folder to list: `datasets/<relative>` of the shared data when it is there, else the committed fixture
 * folder `fixtureRelative` (a few files of the same kind; by default the mirrored path).
 */
export function datasetDir(relative: string, fixtureRelative = relative): string {
  const shared = join(SHARED_DIR, 'datasets', relative);
  return existsSync(shared) ? shared : join(FIXTURES_DIR, fixtureRelative);
}

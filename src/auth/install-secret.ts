import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Random bytes in a generated per-install secret (64 characters once base64url-encoded). */
const SECRET_BYTES = 48;

/** Shortest per-install secret accepted when read back. */
const MIN_SECRET_LENGTH = 32;

/** Node's error for a missing file or a file created by someone else first. */
function hasCode(error: unknown, code: string): boolean {
  return (error as { code?: unknown } | null)?.code === code;
}

function readSecret(file: string): string {
  const secret = readFileSync(file, 'utf8').trim();
  // Names the file and the rule, never the value.
  if (secret.length < MIN_SECRET_LENGTH)
    throw new Error(
      `${file} holds no usable secret (under ${MIN_SECRET_LENGTH} characters); delete it to have a new one made`,
    );
  return secret;
}

/**
 * The key that signs this install's bearer tokens: AUTH_SECRET when it is configured, otherwise the
 * install's own random secret kept at `secretFile` (`<DATA_DIR>/auth-secret`), made on first use
 * with mode 0600 and read on every later start. The server, `npm run token:mint` and the tests all
 * go through here, so they agree on the key while no key is ever written into the repository (the
 * development secret that used to be in the source let anyone forge an ADMIN token).
 */
export function resolveAuthSecret(auth: { secret: string | null; secretFile: string }): string {
  if (auth.secret) return auth.secret;
  try {
    return readSecret(auth.secretFile);
  } catch (error) {
    if (!hasCode(error, 'ENOENT')) throw error;
  }
  mkdirSync(dirname(auth.secretFile), { recursive: true, mode: 0o700 });
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  try {
    // `wx`: never overwrite; of two processes starting together, the second reads the first's secret.
    writeFileSync(auth.secretFile, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if (hasCode(error, 'EEXIST')) return readSecret(auth.secretFile);
    throw error;
  }
}

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAuthSecret } from './install-secret';

describe('resolveAuthSecret', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cc-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a random secret readable by its owner only, and returns the same one on the next start', () => {
    const secretFile = join(dir, 'data', 'auth-secret');
    const first = resolveAuthSecret({ secret: null, secretFile });
    expect(first).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(resolveAuthSecret({ secret: null, secretFile })).toBe(first);
    const other = join(dir, 'other', 'auth-secret');
    expect(resolveAuthSecret({ secret: null, secretFile: other })).not.toBe(first);
  });

  it('uses AUTH_SECRET when configured and writes no file', () => {
    const secretFile = join(dir, 'auth-secret');
    expect(resolveAuthSecret({ secret: 'configured-secret-configured-secret-01', secretFile })).toBe(
      'configured-secret-configured-secret-01',
    );
    expect(() => readFileSync(secretFile)).toThrow(/ENOENT/);
  });

  it('refuses a file holding a short secret, naming the file and not the value', () => {
    const secretFile = join(dir, 'auth-secret');
    writeFileSync(secretFile, 'tiny\n');
    expect(() => resolveAuthSecret({ secret: null, secretFile })).toThrow(
      /auth-secret holds no usable secret/,
    );
    expect(() => resolveAuthSecret({ secret: null, secretFile })).not.toThrow(/tiny/);
  });
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Source files that ship: everything under src/ and scripts/ except tests. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return /\.(ts|js|py)$/.test(name) && !/\.spec\.ts$/.test(name) ? [path] : [];
  });
}

/** Shapes of credentials written into code. */
const PATTERNS: [string, RegExp][] = [
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
  ['JSON web token', /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./],
  ['MinIO default credentials', /\bminioadmin\b/],
  ['credentials in a URL', /\b[a-z]+:\/\/[^/\s:'"`@]+:[^/\s'"`@$]{3,}@/i],
  [
    'string assigned to a secret-named key',
    /\b\w*(secret|password|passwd|api_?key|private_?key|access_?key)\w*\s*[:=]\s*['"`][^'"`\s]{8,}['"`]/i,
  ],
];

/**
 * Literal secrets allowed in shipped code: none. (There used to be a development signing secret; a
 * default install now signs with a random secret of its own, see auth/install-secret.ts.)
 */
const ALLOWED: RegExp[] = [];

describe('secrets come only from configuration', () => {
  const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'scripts'))];

  it('scans the shipped sources (control)', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.endsWith(join('config', 'app-config.ts')))).toBe(true);
  });

  it('finds no credential written into src/ or scripts/', () => {
    const found: string[] = [];
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (ALLOWED.some((a) => a.test(line))) return;
          for (const [what, pattern] of PATTERNS)
            if (pattern.test(line)) found.push(`${relative(ROOT, file)}:${i + 1} ${what}`);
        });
    }
    expect(found).toEqual([]);
  });

  it('would catch one (control for the patterns)', () => {
    const planted = [
      "const client = new Minio({ accessKey: 'minioadmin', secretKey: 'minioadmin' });",
      "const AUTH_SECRET = 'f00dfeedf00dfeedf00dfeedf00dfeed';",
      "const url = 'postgres://care:hunter22@db:5432/care';",
    ];
    for (const line of planted) expect([line, PATTERNS.some(([, p]) => p.test(line))]).toEqual([line, true]);
  });
});

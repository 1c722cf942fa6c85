import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

/** A static file the server answers without authentication (the page holds no data; data needs a token). */
export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

/** Static files by path. */
export interface StaticAssets {
  get(pathname: string): StaticAsset | null;
  /** Every path answered, sorted. */
  paths(): string[];
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  graphql: 'text/plain; charset=utf-8',
};

/** Where `public/dashboard` is, from the sources (`src/http`) or the build (`dist/src/http`). */
function dashboardDir(): string {
  for (const up of [
    ['..', '..'],
    ['..', '..', '..'],
  ]) {
    const dir = join(__dirname, ...up, 'public', 'dashboard');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error('public/dashboard/index.html not found');
}

/** Paths (with `/`) of the files under `dir` whose extension the dashboard serves, dot-files skipped. */
function servedFiles(dir: string, prefix = ''): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...servedFiles(join(dir, entry.name), rel));
    else if (entry.isFile() && Object.hasOwn(TYPES, extname(entry.name).slice(1))) found.push(rel);
  }
  return found.sort();
}

/**
 * The monitoring dashboard: `GET /dashboard` (the page), every `.html`, `.js` and `.css` file under
 * `public/dashboard` at its path below `/dashboard/` (the page's ES modules: `main.js`, `lib/`,
 * `panels/`), the operations it sends (each `client/*.graphql` at `/dashboard/operations/<name>.graphql`)
 * and the graphql-ws browser build from node_modules at `/dashboard/vendor/graphql-ws.js`. Files are
 * read once at start-up into a map, and only its keys are answered: no path reaches the filesystem,
 * so none can traverse out of these folders. No build step. Sign-in, data and live alerts go through
 * `/graphql` with the user's bearer token.
 */
export function dashboardAssets(): StaticAssets {
  const dir = dashboardDir();
  const files = new Map<string, StaticAsset>();
  const add = (path: string, file: string) => {
    const ext = extname(file).slice(1);
    const contentType = Object.hasOwn(TYPES, ext) ? TYPES[ext] : 'application/octet-stream';
    files.set(path, { contentType, body: readFileSync(file) });
  };
  add('/dashboard', join(dir, 'index.html'));
  add('/dashboard/', join(dir, 'index.html'));
  for (const rel of servedFiles(dir)) add(`/dashboard/${rel}`, join(dir, ...rel.split('/')));
  const clientDir = join(dir, '..', '..', 'client');
  const operations = existsSync(clientDir)
    ? readdirSync(clientDir).filter((f) => f.endsWith('.graphql'))
    : [];
  if (!operations.length)
    throw new Error(`no client/*.graphql beside ${dir}: the dashboard sends their operations`);
  for (const file of operations) add(`/dashboard/operations/${file}`, join(clientDir, file));
  const graphqlWs = join(dirname(require.resolve('graphql-ws')), '..', 'umd', 'graphql-ws.min.js');
  add('/dashboard/vendor/graphql-ws.js', graphqlWs);
  return { get: (pathname) => files.get(pathname) ?? null, paths: () => [...files.keys()].sort() };
}

/**
 * Headers of every dashboard answer: no framing, scripts and sockets from this origin only. CSP
 * level 3 `'self'` covers the page's own `ws:`/`wss:` origin; the bare schemes `ws: wss:` it once
 * listed let an injected script open a socket to any host (regression).
 */
export const DASHBOARD_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A static file the server answers without authentication (the page holds no data; data needs a token). */
export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

/** Static files by path. */
export interface StaticAssets {
  get(pathname: string): StaticAsset | null;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
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

/**
 * The monitoring dashboard: `GET /dashboard` (page, script, style) and the graphql-ws browser build
 * from node_modules at `/dashboard/vendor/graphql-ws.js`. Files are read once at start-up; no build step.
 * Sign-in, data and live alerts go through `/graphql` with the user's bearer token.
 */
export function dashboardAssets(): StaticAssets {
  const dir = dashboardDir();
  const files = new Map<string, StaticAsset>();
  const add = (path: string, file: string) => {
    const ext = file.split('.').pop()!;
    files.set(path, { contentType: TYPES[ext] ?? 'application/octet-stream', body: readFileSync(file) });
  };
  add('/dashboard', join(dir, 'index.html'));
  add('/dashboard/', join(dir, 'index.html'));
  add('/dashboard/dashboard.js', join(dir, 'dashboard.js'));
  add('/dashboard/dashboard.css', join(dir, 'dashboard.css'));
  const graphqlWs = join(dirname(require.resolve('graphql-ws')), '..', 'umd', 'graphql-ws.min.js');
  add('/dashboard/vendor/graphql-ws.js', graphqlWs);
  return { get: (pathname) => files.get(pathname) ?? null };
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

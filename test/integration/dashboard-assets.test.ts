/**
 * The dashboard's files over real HTTP (issue 14, item 8): the page, each of its ES modules, the
 * operations it sends and the graphql-ws build are answered with the dashboard's headers (strict
 * CSP, nosniff) and their content type; any other path under /dashboard, traversal attempts
 * included, is a 404.
 */
import { request } from 'node:http';
import { DASHBOARD_HEADERS, dashboardAssets } from '../../src/http/dashboard';
import { startLightApp } from '../security/light-app';
import type { TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startLightApp();
});
afterAll(async () => t?.stop());

/** GET of a raw request target (not normalised, unlike fetch): status, headers and body. */
function get(target: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.app.port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard over HTTP', () => {
  it('serves the page, every module, the operations and the vendor build with the dashboard headers', async () => {
    const paths = dashboardAssets().paths();
    const modules = paths.filter((p) => p.endsWith('.js'));
    expect(modules).toEqual(
      expect.arrayContaining([
        '/dashboard/main.js',
        '/dashboard/lib/graphql.js',
        '/dashboard/panels/site-validation.js',
        '/dashboard/vendor/graphql-ws.js',
      ]),
    );
    expect(paths).toContain('/dashboard/operations/dashboard.graphql');
    for (const path of paths) {
      const res = await get(path);
      const type = path.endsWith('.js')
        ? 'text/javascript; charset=utf-8'
        : path.endsWith('.graphql')
          ? 'text/plain; charset=utf-8'
          : path.endsWith('.css')
            ? 'text/css; charset=utf-8'
            : 'text/html; charset=utf-8';
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({
        path,
        status: 200,
        type,
      });
      for (const [name, value] of Object.entries(DASHBOARD_HEADERS))
        expect({ path, name, value: res.headers[name] }).toEqual({ path, name, value });
    }
    expect(DASHBOARD_HEADERS['content-security-policy']).toContain("script-src 'self';");
    expect((await get('/dashboard/operations/dashboard.graphql')).body).toContain('query DashboardSites');
    expect((await get('/dashboard/operations/monitoring.graphql')).body).toContain(
      'query MonitoringOverview',
    );
  });

  it('answers 404 for any other path under /dashboard', async () => {
    for (const path of [
      '/dashboard/nope.js',
      '/dashboard/dashboard.js',
      '/dashboard/lib/',
      '/dashboard/panels',
      '/dashboard/../package.json',
      '/dashboard/lib/../../../package.json',
      '/dashboard/%2e%2e/%2e%2e/package.json',
      '/dashboard/..%2f..%2fpackage.json',
      '/dashboard/operations/generated.ts',
      '/dashboard/operations/../../client/generated.ts',
      '/dashboard/main.js%00.css',
    ]) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain('import ');
    }
  });
});

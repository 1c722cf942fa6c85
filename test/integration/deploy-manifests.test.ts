/**
 * deploy/ is valid by real validators (scripts/lint-deploy.mjs: dockerfile-utils, docker-compose,
 * nginx -t, promtool, the Kubernetes schemas of kubernetes-models), each validator rejects a broken
 * copy, and every metric the Grafana dashboard and the Prometheus rules query exists in a real scrape.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseExposition, seriesNames } from '../support/prometheus-text';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const DEPLOY = join(__dirname, '..', '..', 'deploy');
const LINT = join(__dirname, '..', '..', 'scripts', 'lint-deploy.mjs');

const tool = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

function lint(dir: string, only?: string): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, [LINT, '--strict', '--dir', dir, ...(only ? ['--only', only] : [])], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.split('\n').filter(Boolean) };
}

/** A copy of deploy/ with one file edited; `edit` must change it. */
function brokenCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-broken-'));
  cpSync(DEPLOY, dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`the edit of ${file} changed nothing`);
  writeFileSync(path, after);
  return dir;
}

/** Metric names (care_companion_*, not recorded series with colons) a PromQL expression uses. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(care_companion_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1]);
}

interface Dashboard {
  panels: { title: string; targets?: { expr?: string }[]; panels?: Dashboard['panels'] }[];
  templating: { list: { query: string | { query: string } }[] };
}

function dashboardExprs(): { where: string; expr: string }[] {
  const dash = JSON.parse(
    readFileSync(join(DEPLOY, 'grafana', 'dashboards', 'care-companion.json'), 'utf8'),
  ) as Dashboard;
  const out: { where: string; expr: string }[] = [];
  const walk = (panels: Dashboard['panels']) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating.list)
    out.push({ where: 'variable', expr: typeof v.query === 'string' ? v.query : v.query.query });
  return out;
}

function ruleExprs(): { where: string; expr: string; record?: string }[] {
  const doc = parseYaml(readFileSync(join(DEPLOY, 'prometheus', 'rules.yml'), 'utf8')) as {
    groups: { rules: { record?: string; alert?: string; expr: string }[] }[];
  };
  return doc.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `rule ${r.record ?? r.alert}`, expr: String(r.expr), record: r.record })),
  );
}

describe('deploy/ manifests', () => {
  const tools =
    requireOrSkip(tool('promtool'), 'promtool (Debian package prometheus)') &&
    requireOrSkip(tool('docker-compose'), 'docker-compose (Debian package docker-compose)') &&
    requireOrSkip(tool('nginx') || tool('/usr/sbin/nginx'), 'nginx (Debian package nginx-light)');
  const copies: string[] = [];
  afterAll(() => {
    for (const d of copies) rmSync(d, { recursive: true, force: true });
  });

  it('pass every validator', () => {
    if (!tools) return;
    const r = lint(DEPLOY);
    expect(r.lines.filter((l) => !l.startsWith('PASS'))).toEqual(['deploy lint: 0 failed, 0 skipped']);
    expect(r.status).toBe(0);
    const checked = new Set(r.lines.filter((l) => l.startsWith('PASS')).map((l) => l.split(' ')[1]));
    expect([...checked].sort()).toEqual(['compose', 'dockerfile', 'grafana', 'k8s', 'nginx', 'prometheus']);
    for (const kind of [
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'Ingress',
      'PodDisruptionBudget',
      'ConfigMap',
    ])
      expect(r.lines.some((l) => l.startsWith('PASS k8s') && l.includes(`(${kind} `))).toBe(true);
  });

  const broken: [string, string, string, (s: string) => string, RegExp][] = [
    [
      'a Dockerfile instruction the linter rejects',
      'dockerfile',
      'Dockerfile',
      (s) => s.replace('EXPOSE 4000', 'EXPOSE http'),
      /Invalid containerPort/,
    ],
    [
      'a Dockerfile that runs as root',
      'dockerfile',
      'Dockerfile',
      (s) => s.replace('USER node', 'USER root'),
      /non-root USER/,
    ],
    [
      'a compose value of the wrong type',
      'compose',
      'docker-compose.yml',
      (s) => s.replace('replicas: 2', 'replicas: two'),
      /replicas/,
    ],
    [
      'a compose service key that does not exist',
      'compose',
      'docker-compose.yml',
      (s) => s.replace('    stop_grace_period: 30s', '    stop_grace: 30s'),
      /stop_grace/,
    ],
    [
      'a Grafana dashboards folder the compose stack does not mount',
      'compose',
      'grafana/provisioning/dashboards/care-companion.yml',
      (s) => s.replace('path: /etc/grafana/dashboards', 'path: /srv/dashboards'),
      /grafana does not mount the dashboards at \/srv\/dashboards/,
    ],
    [
      'an nginx directive without its semicolon',
      'nginx',
      'nginx/nginx.conf',
      (s) => s.replace('worker_connections 4096;', 'worker_connections 4096'),
      /nginx/,
    ],
    [
      'a Prometheus config with a bad duration',
      'prometheus',
      'prometheus/prometheus.yml',
      (s) => s.replace('scrape_interval: 15s', 'scrape_interval: 15 seconds'),
      /prometheus\.yml/,
    ],
    [
      'an alert rule that is not PromQL',
      'prometheus',
      'prometheus/rules.yml',
      (s) => s.replace('up{job="care-companion"} == 0', 'up{job="care-companion" == 0'),
      /rules\.yml/,
    ],
    [
      'a dashboard query that is not PromQL',
      'grafana',
      'grafana/dashboards/care-companion.json',
      (s) => s.replace('[$__rate_interval]))', '[$__rate_interval])'),
      /does not parse as PromQL/,
    ],
    [
      'a dashboard panel on an unknown datasource',
      'grafana',
      'grafana/dashboards/care-companion.json',
      (s) => s.replace('"uid": "prometheus"', '"uid": "nope"'),
      /unknown datasource uid nope/,
    ],
    [
      'a container port that is not a number',
      'k8s',
      'k8s/deployment.yaml',
      (s) => s.replace('containerPort: 4000', 'containerPort: "4000"'),
      /containerPort must be integer/,
    ],
    [
      'a Deployment without a selector',
      'k8s',
      'k8s/deployment.yaml',
      (s) =>
        s.replace(
          / {2}selector:\n {4}matchLabels:\n {6}app.kubernetes.io\/name: care-companion\n {6}app.kubernetes.io\/component: api\n/,
          '',
        ),
      /required property selector/,
    ],
    [
      'a Deployment without a readiness probe',
      'k8s',
      'k8s/deployment.yaml',
      (s) => s.replace('readinessProbe:', 'x-readinessProbe:'),
      /no readinessProbe/,
    ],
    [
      'a Service that selects no pods',
      'k8s',
      'k8s/service.yaml',
      (s) => s.replace('app.kubernetes.io/component: api', 'app.kubernetes.io/component: web'),
      /selects no Deployment's pods/,
    ],
    [
      'an HPA with a non-numeric replica bound',
      'k8s',
      'k8s/hpa.yaml',
      (s) => s.replace('maxReplicas: 10', 'maxReplicas: ten'),
      /maxReplicas must be integer/,
    ],
    [
      'a misspelt container field',
      'k8s',
      'k8s/deployment.yaml',
      (s) => s.replace('          readinessProbe:', '          readinessProbes:'),
      /'"readinessProbes"' does not exist in type 'IContainer'/,
    ],
    [
      'a misspelt PodDisruptionBudget field',
      'k8s',
      'k8s/pdb.yaml',
      (s) => s.replace('minAvailable: 1', 'minAvailible: 1'),
      /"minAvailible"' does not exist/,
    ],
  ];
  it.each(broken)('reject %s', (_what, check, file, edit, message) => {
    if (!tools) return;
    const dir = brokenCopy(file, edit);
    copies.push(dir);
    const r = lint(dir, check);
    expect(r.status).toBe(1);
    const failures = r.lines.filter((l) => l.startsWith('FAIL'));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.join('\n')).toMatch(message);
  });

  describe('metric names in the dashboard and the rules', () => {
    let t: TestApp;
    let exported: Set<string>;
    beforeAll(async () => {
      t = await startTestApp({ ANALYSIS_WORKERS: '0' });
      exported = seriesNames(parseExposition(await (await fetch(`${t.app.url}/metrics`)).text()));
    });
    afterAll(async () => t?.stop());

    it('exist in a real /metrics scrape', () => {
      const recorded = new Set(ruleExprs().flatMap((r) => (r.record ? [r.record] : [])));
      const queries = [...dashboardExprs(), ...ruleExprs()];
      expect(queries.length).toBeGreaterThan(20);
      const missing: string[] = [];
      for (const q of queries) {
        const names = metricNames(q.expr);
        const usesRecorded = [...recorded].some((r) => q.expr.includes(r));
        if (!names.length && !usesRecorded && !/\bup\{/.test(q.expr))
          missing.push(`${q.where} queries no metric of ours`);
        for (const n of names) if (!exported.has(n)) missing.push(`${q.where}: ${n}`);
      }
      expect(missing).toEqual([]);
      // Every core family the README lists is on at least one dashboard panel.
      const onDashboard = new Set(dashboardExprs().flatMap((q) => metricNames(q.expr)));
      for (const family of [
        'http_request_duration_seconds',
        'graphql_operation_duration_seconds',
        'inference_duration_seconds',
        'inference_queue_wait_seconds',
        'inference_queue_depth',
        'inference_batch_size',
        'inference_requests_total',
        'model_loaded',
        'predictions_total',
        'analysis_duration_seconds',
        'job_queue_jobs',
        'analysis_jobs',
        'websocket_connections',
      ])
        expect([family, [...onDashboard].some((n) => n.startsWith(`care_companion_${family}`))]).toEqual([
          family,
          true,
        ]);
    });

    it('would catch a query on a metric that is not exported', () => {
      const expr = 'sum(rate(care_companion_inference_duration_secondz_count[5m]))';
      expect(metricNames(expr).filter((n) => !exported.has(n))).toEqual([
        'care_companion_inference_duration_secondz_count',
      ]);
    });
  });
});

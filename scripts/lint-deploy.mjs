#!/usr/bin/env node
/**
 * `npm run lint:deploy [-- --dir deploy] [--only k8s,compose,...] [--strict]`: validates everything under deploy/ with real
 * validators, without a container engine or a cluster:
 * - Dockerfile: dockerfile-utils (the Docker language server's linter), plus the image rules we keep
 *   (multi-stage, non-root, HEALTHCHECK, ONNXRUNTIME_NODE_INSTALL=skip, models copied).
 * - docker-compose.yml: `docker-compose config` (Debian docker-compose), offline.
 * - nginx/nginx.conf: `nginx -t` (Debian nginx).
 * - prometheus/: `promtool check config` and `promtool check rules` (Debian prometheus).
 * - grafana/: dashboard JSON structure, datasource uids, and every panel query parsed by promtool.
 * - k8s/: each manifest against the Kubernetes OpenAPI schemas (kubernetes-models validators), unknown
 *   (misspelt) fields through kubernetes-models' TypeScript interfaces, and cross-references
 *   (selectors, probe ports, HPA/PDB/Ingress targets, kustomization resources).
 * Prints one line per check (PASS, FAIL or SKIP) and exits 1 on any FAIL (and on SKIP with --strict).
 * Written as an ES module because kubernetes-models ships only ES modules.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const YAML = require('yaml');
const { validate: validateDockerfile } = require('dockerfile-utils');
const { DockerfileParser } = require('dockerfile-ast');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const strict = args.includes('--strict');
const dirArg = args.indexOf('--dir');
const dir = resolve(dirArg >= 0 ? args[dirArg + 1] : join(root, 'deploy'));
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(',')) : null;
const enabled = (check) => !only || only.has(check);

let failed = 0;
let skipped = 0;
const rel = (p) => relative(dir, p) || basename(p);
const pass = (check, what) => console.log(`PASS ${check} ${what}`);
const fail = (check, what, why) => {
  failed++;
  console.log(
    `FAIL ${check} ${what}: ${String(why)
      .trim()
      .replace(/\s*\n\s*/g, ' | ')}`,
  );
};
const skip = (check, why) => {
  skipped++;
  console.log(`SKIP ${check}: ${why}`);
};
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
const run = (cmd, argv, env = {}) =>
  spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

function checkDockerfile() {
  const file = join(dir, 'Dockerfile');
  const text = readFileSync(file, 'utf8');
  const problems = validateDockerfile(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  const instructions = DockerfileParser.parse(text).getInstructions();
  const named = (k) => instructions.filter((i) => i.getKeyword() === k);
  const froms = named('FROM');
  if (froms.length < 2) problems.push('must be multi-stage (at least two FROM)');
  const lastFrom = froms.at(-1)?.getRange().start.line ?? 0;
  const finalStage = instructions.filter((i) => i.getRange().start.line >= lastFrom);
  const user = finalStage.filter((i) => i.getKeyword() === 'USER').at(-1);
  if (!user || /^(root|0)(:|$)/.test(user.getArgumentsContent() ?? ''))
    problems.push('the final stage must switch to a non-root USER');
  if (!named('HEALTHCHECK').length) problems.push('needs a HEALTHCHECK');
  if (!/ONNXRUNTIME_NODE_INSTALL=skip/.test(text)) problems.push('must set ONNXRUNTIME_NODE_INSTALL=skip');
  if (!finalStage.some((i) => i.getKeyword() === 'COPY' && /\bmodels\b/.test(i.getArgumentsContent() ?? '')))
    problems.push('the final stage must copy models/');
  if (problems.length) fail('dockerfile', rel(file), problems.join('; '));
  else pass('dockerfile', rel(file));
}

function checkCompose() {
  const file = join(dir, 'docker-compose.yml');
  if (!have('docker-compose'))
    return skip('compose', 'docker-compose not installed (Debian package docker-compose)');
  // The file requires its secrets from the environment; give placeholders so `config` can interpolate.
  const env = {
    AUTH_SECRET: 'x'.repeat(32),
    POSTGRES_PASSWORD: 'x',
    MINIO_ROOT_PASSWORD: 'x',
    GRAFANA_ADMIN_PASSWORD: 'x',
  };
  const r = run('docker-compose', ['-f', file, 'config', '-q'], env);
  if (r.status !== 0) return fail('compose', rel(file), r.stderr || r.stdout || r.error);
  const doc = YAML.parse(readFileSync(file, 'utf8'));
  const problems = [];
  const services = doc.services ?? {};
  for (const name of ['postgres', 'minio', 'api', 'lb', 'prometheus', 'grafana'])
    if (!services[name]) problems.push(`missing service ${name}`);
  if (!((services.api?.deploy?.replicas ?? 1) >= 2)) problems.push('api needs at least 2 replicas');
  for (const [name, svc] of Object.entries(services))
    for (const v of svc.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0] : v.source;
      if (source?.startsWith('.') && !existsSync(resolve(dir, source)))
        problems.push(`${name} mounts ${source}, which does not exist`);
    }
  // Grafana must see the dashboards where its provisioning looks for them.
  const providers = join(dir, 'grafana', 'provisioning', 'dashboards');
  const targets = (services.grafana?.volumes ?? []).map((v) =>
    typeof v === 'string' ? v.split(':')[1] : v.target,
  );
  if (existsSync(providers))
    for (const f of readdirSync(providers).filter((x) => /\.ya?ml$/.test(x)))
      for (const p of YAML.parse(readFileSync(join(providers, f), 'utf8')).providers ?? [])
        if (!targets.includes(p.options?.path))
          problems.push(`grafana does not mount the dashboards at ${p.options?.path}`);
  if (problems.length) fail('compose', rel(file), problems.join('; '));
  else pass('compose', rel(file));
}

function checkNginx() {
  const file = join(dir, 'nginx', 'nginx.conf');
  if (!have('nginx') && !existsSync('/usr/sbin/nginx'))
    return skip('nginx', 'nginx not installed (Debian package nginx-light)');
  const prefix = mkdtempSync(join(tmpdir(), 'lint-nginx-'));
  try {
    const nginx = have('nginx') ? 'nginx' : '/usr/sbin/nginx';
    // Output to a file, not a pipe: the config logs to /dev/stdout and /dev/stderr, which Linux cannot
    // open when they are sockets (Node's child pipes are socket pairs).
    const out = join(prefix, 'nginx-t.txt');
    const fd = openSync(out, 'w');
    const r = spawnSync(nginx, ['-t', '-q', '-c', file, '-p', prefix, '-e', 'stderr'], {
      stdio: ['ignore', fd, fd],
      timeout: 60_000,
    });
    closeSync(fd);
    if (r.status !== 0) return fail('nginx', rel(file), readFileSync(out, 'utf8') || r.error);
    const text = readFileSync(file, 'utf8');
    if (!/proxy_set_header\s+Upgrade\s+\$http_upgrade/.test(text))
      return fail(
        'nginx',
        rel(file),
        'must pass WebSocket upgrades (proxy_set_header Upgrade $http_upgrade)',
      );
    pass('nginx', rel(file));
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

function promtool(argv) {
  return run('promtool', argv);
}

function checkPrometheus() {
  if (!have('promtool')) return skip('prometheus', 'promtool not installed (Debian package prometheus)');
  const configs = [
    ['prometheus.yml', []],
    // Its credentials file exists only inside the cluster.
    ['prometheus-kubernetes.yml', ['--syntax-only']],
  ];
  for (const [name, extra] of configs) {
    const file = join(dir, 'prometheus', name);
    const r = promtool(['check', 'config', '--lint-fatal', ...extra, file]);
    if (r.status !== 0) fail('prometheus', rel(file), r.stdout + r.stderr);
    else pass('prometheus', rel(file));
  }
  const rules = join(dir, 'prometheus', 'rules.yml');
  const r = promtool(['check', 'rules', '--lint-fatal', rules]);
  if (r.status !== 0) fail('prometheus', rel(rules), r.stdout + r.stderr);
  else pass('prometheus', rel(rules));
}

/** Every PromQL query of a Grafana dashboard (panel targets, nested row panels, variable queries). */
export function dashboardQueries(dashboard) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ panel: p.title, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (v.type === 'query' && q) out.push({ panel: `variable ${v.name}`, expr: q });
  }
  return out;
}

/** Grafana's own syntax replaced by plain PromQL, so promtool can parse a dashboard query. */
function grafanaToPromQL(expr) {
  const labelValues = expr.match(/^label_values\((.+),\s*\w+\)$/);
  if (labelValues) return labelValues[1];
  return expr.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?(\w+)(:\w+)?\}?/g, '.*');
}

function checkGrafana() {
  const dsDir = join(dir, 'grafana', 'provisioning', 'datasources');
  const uids = new Set(
    readdirSync(dsDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => YAML.parse(readFileSync(join(dsDir, f), 'utf8')).datasources ?? [])
      .map((d) => d.uid),
  );
  const providers = join(dir, 'grafana', 'provisioning', 'dashboards');
  for (const f of readdirSync(providers).filter((x) => /\.ya?ml$/.test(x))) {
    const doc = YAML.parse(readFileSync(join(providers, f), 'utf8'));
    if (doc.apiVersion !== 1 || !doc.providers?.every((p) => p.options?.path))
      fail('grafana', rel(join(providers, f)), 'a dashboard provider needs apiVersion 1 and options.path');
    else pass('grafana', rel(join(providers, f)));
  }
  const dashDir = join(dir, 'grafana', 'dashboards');
  for (const f of readdirSync(dashDir).filter((x) => x.endsWith('.json'))) {
    const file = join(dashDir, f);
    let dash;
    try {
      dash = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      fail('grafana', rel(file), e.message);
      continue;
    }
    const problems = [];
    if (!dash.uid || !dash.title || !Array.isArray(dash.panels)) problems.push('needs uid, title and panels');
    const ids = new Set();
    const walk = (panels) => {
      for (const p of panels ?? []) {
        if (ids.has(p.id)) problems.push(`duplicate panel id ${p.id}`);
        ids.add(p.id);
        if (p.type !== 'row' && !(p.targets ?? []).length) problems.push(`panel "${p.title}" has no query`);
        for (const ds of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)])
          if (ds && !uids.has(ds.uid))
            problems.push(`panel "${p.title}" uses unknown datasource uid ${ds.uid}`);
        walk(p.panels);
      }
    };
    walk(dash.panels);
    for (const v of dash.templating?.list ?? [])
      if (v.datasource && !uids.has(v.datasource.uid))
        problems.push(`variable ${v.name} uses unknown datasource uid ${v.datasource.uid}`);
    const queries = dashboardQueries(dash);
    if (have('promtool') && queries.length) {
      // promtool parses PromQL only inside rule files: one recording rule per query.
      const tmp = mkdtempSync(join(tmpdir(), 'lint-grafana-'));
      try {
        const rules = {
          groups: [
            {
              name: 'dashboard',
              rules: queries.map((q, i) => ({
                record: `dashboard:query_${i}`,
                expr: grafanaToPromQL(q.expr),
              })),
            },
          ],
        };
        writeFileSync(join(tmp, 'rules.yml'), YAML.stringify(rules));
        const r = promtool(['check', 'rules', join(tmp, 'rules.yml')]);
        if (r.status !== 0) problems.push(`a query does not parse as PromQL: ${r.stdout}${r.stderr}`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    } else if (!have('promtool'))
      skip('grafana-promql', 'promtool not installed (Debian package prometheus)');
    if (problems.length) fail('grafana', rel(file), problems.join('; '));
    else pass('grafana', `${rel(file)} (${queries.length} queries)`);
  }
}

/** The kubernetes-models class for an apiVersion/kind, e.g. apps/v1 Deployment. */
async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
  const path = group
    ? `kubernetes-models/${group}/${version}/${kind}`
    : `kubernetes-models/${version}/${kind}`;
  const mod = await import(path);
  return mod[kind];
}

async function checkKubernetes() {
  const k8s = join(dir, 'k8s');
  const files = readdirSync(k8s).filter((f) => /\.ya?ml$/.test(f));
  const objects = [];
  for (const f of files.filter((x) => x !== 'kustomization.yaml')) {
    const file = join(k8s, f);
    let docs;
    try {
      docs = YAML.parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
        return d.toJS();
      });
    } catch (e) {
      fail('k8s', rel(file), e.message);
      continue;
    }
    for (const doc of docs.filter(Boolean)) {
      const what = `${rel(file)} (${doc.kind ?? '?'} ${doc.metadata?.name ?? '?'})`;
      try {
        if (!doc.apiVersion || !doc.kind) throw new Error('needs apiVersion and kind');
        const Model = await modelFor(doc.apiVersion, doc.kind);
        if (!Model) throw new Error(`unknown kind ${doc.apiVersion} ${doc.kind}`);
        new Model(doc).validate();
        objects.push({ file: f, doc });
        pass('k8s', what);
      } catch (e) {
        fail(
          'k8s',
          what,
          e.code === 'ERR_MODULE_NOT_FOUND' ? `unknown kind ${doc.apiVersion} ${doc.kind}` : e.message,
        );
      }
    }
  }
  unknownFields(objects);
  crossCheck(objects, k8s);
}

/**
 * Fields the API does not define (a typo such as `readinessProbes`): the JSON schemas allow extra
 * properties, so each manifest is also type-checked as an object literal against kubernetes-models'
 * TypeScript interfaces, whose excess-property check names the unknown field.
 */
function unknownFields(objects) {
  const ts = require('typescript');
  const virtual = join(root, '.lint-deploy-manifests.ts');
  const lines = [];
  const owners = [];
  objects.forEach(({ file, doc }, i) => {
    const [group, version] = doc.apiVersion.includes('/')
      ? doc.apiVersion.split('/')
      : [null, doc.apiVersion];
    const module = group
      ? `kubernetes-models/${group}/${version}/${doc.kind}`
      : `kubernetes-models/${version}/${doc.kind}`;
    const start = lines.length;
    lines.push(`import type { I${doc.kind} as T${i} } from '${module}';`);
    lines.push(`export const m${i}: T${i} = ${JSON.stringify(doc, null, 1)};`);
    const text = lines.slice(start).join('\n');
    owners.push({
      from: start,
      to: start + text.split('\n').length,
      what: `${file} (${doc.kind} ${doc.metadata?.name})`,
    });
    lines.splice(start, lines.length - start, ...text.split('\n'));
  });
  const source = lines.join('\n');
  const options = {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => f === virtual || fileExists.call(host, f);
  host.readFile = (f) => (f === virtual ? source : readFile.call(host, f));
  host.getSourceFile = (f, lang, ...rest) =>
    f === virtual ? ts.createSourceFile(f, source, lang) : getSourceFile.call(host, f, lang, ...rest);
  const program = ts.createProgram([virtual], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === virtual);
  const byOwner = new Map();
  for (const d of diagnostics) {
    const line = d.file.getLineAndCharacterOfPosition(d.start ?? 0).line;
    const owner = owners.find((o) => line >= o.from && line < o.to)?.what ?? 'manifests';
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), message]);
  }
  for (const [what, messages] of byOwner) fail('k8s', `${what} fields`, messages.join('; '));
  if (!byOwner.size) pass('k8s', `fields of ${objects.length} objects (kubernetes-models types)`);
}

/** References between the manifests, which schemas cannot see. */
function crossCheck(objects, k8s) {
  const problems = [];
  const of = (kind) => objects.filter((o) => o.doc.kind === kind).map((o) => o.doc);
  const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  const deployments = of('Deployment');
  if (!deployments.length) problems.push('no Deployment');
  for (const d of deployments) {
    const labels = d.spec.template.metadata?.labels;
    if (!matches(d.spec.selector.matchLabels, labels))
      problems.push(`Deployment ${d.metadata.name}: selector does not match its pod labels`);
    for (const c of d.spec.template.spec.containers) {
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        if (!c[probe]) problems.push(`container ${c.name} has no ${probe}`);
      if (!c.resources?.requests || !c.resources?.limits)
        problems.push(`container ${c.name} needs resource requests and limits`);
      const ports = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        if (c[probe]?.httpGet && !ports.has(c[probe].httpGet.port))
          problems.push(`container ${c.name} ${probe} uses an undeclared port`);
    }
    if (d.spec.template.spec.securityContext?.runAsNonRoot !== true)
      problems.push(`Deployment ${d.metadata.name} must run as non-root`);
  }
  const podLabels = deployments.map((d) => d.spec.template.metadata?.labels);
  const services = of('Service');
  for (const s of services)
    if (!podLabels.some((l) => matches(s.spec.selector, l)))
      problems.push(`Service ${s.metadata.name} selects no Deployment's pods`);
  for (const h of of('HorizontalPodAutoscaler')) {
    const t = h.spec.scaleTargetRef;
    if (!objects.some((o) => o.doc.kind === t.kind && o.doc.metadata.name === t.name))
      problems.push(`HPA ${h.metadata.name} targets a missing ${t.kind} ${t.name}`);
  }
  for (const p of of('PodDisruptionBudget'))
    if (!podLabels.some((l) => matches(p.spec.selector?.matchLabels, l)))
      problems.push(`PDB ${p.metadata.name} selects no pods`);
  for (const i of of('Ingress'))
    for (const rule of i.spec.rules ?? [])
      for (const path of rule.http?.paths ?? []) {
        const b = path.backend.service;
        const svc = services.find((s) => s.metadata.name === b?.name);
        if (!svc)
          problems.push(`Ingress ${i.metadata.name} routes ${path.path} to a missing service ${b?.name}`);
        else if (!svc.spec.ports.some((p) => p.name === b.port.name || p.port === b.port.number))
          problems.push(`Ingress ${i.metadata.name} routes ${path.path} to a port service ${b.name} lacks`);
        if (path.path === '/' || path.path.startsWith('/metrics'))
          problems.push(`Ingress ${i.metadata.name} must not expose ${path.path}`);
      }
  for (const kind of [
    'Deployment',
    'Service',
    'HorizontalPodAutoscaler',
    'Ingress',
    'PodDisruptionBudget',
    'ConfigMap',
  ])
    if (!of(kind).length) problems.push(`no ${kind}`);
  const kustomization = join(k8s, 'kustomization.yaml');
  if (existsSync(kustomization)) {
    const k = YAML.parse(readFileSync(kustomization, 'utf8'));
    for (const r of k.resources ?? [])
      if (!existsSync(join(k8s, r))) problems.push(`kustomization lists missing ${r}`);
    for (const o of objects)
      if (o.doc.kind !== 'Secret' && !(k.resources ?? []).includes(o.file))
        problems.push(`kustomization does not list ${o.file}`);
  }
  if (problems.length) fail('k8s', 'cross-references', [...new Set(problems)].join('; '));
  else pass('k8s', 'cross-references');
}

if (!existsSync(dir)) {
  console.error(`no such folder: ${dir}`);
  process.exit(2);
}
if (enabled('dockerfile')) checkDockerfile();
if (enabled('compose')) checkCompose();
if (enabled('nginx')) checkNginx();
if (enabled('prometheus')) checkPrometheus();
if (enabled('grafana')) checkGrafana();
if (enabled('k8s')) await checkKubernetes();
console.log(`deploy lint: ${failed} failed, ${skipped} skipped`);
process.exit(failed || (strict && skipped) ? 1 : 0);

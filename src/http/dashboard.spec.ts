import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Kind, parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { loadConfig } from '../config/app-config';
import { buildAppSchema } from '../schema/build-schema';
import { queryLimitsRule } from '../schema/limits';
import { dashboardAssets } from './dashboard';

const DASHBOARD = join(__dirname, '..', '..', 'public', 'dashboard');
const assets = dashboardAssets();
/** The page's ES modules, as served (path below /dashboard/ → source). */
const modules = assets
  .paths()
  .filter((p) => p.endsWith('.js') && !p.startsWith('/dashboard/vendor/'))
  .map((path) => ({ path, source: assets.get(path)!.body.toString('utf8') }));
/** Every `operation('file', 'Name')` a module names. */
const named = modules.flatMap(({ path, source }) =>
  [...source.matchAll(/\boperation\(\s*'([\w-]+)',\s*'(\w+)'\s*\)/g)].map(([, file, name]) => ({
    path,
    file,
    name,
  })),
);

/** The page's own extractor (public/dashboard/lib/operations.js), as the browser runs it. */
async function extractor(): Promise<(document: string, name: string) => string> {
  const mod = (await import(join(DASHBOARD, 'lib', 'operations.js'))) as {
    extractOperation: (document: string, name: string) => string;
  };
  return mod.extractOperation;
}

describe('dashboard operations', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildAppSchema();
  });

  it('names only operations of the served .graphql files, each valid against the schema and its limits', async () => {
    expect(named.length).toBeGreaterThanOrEqual(13);
    const extractOperation = await extractor();
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://127.0.0.1/unused',
      AUTH_SECRET: 'test-secret-test-secret-test-secret-0123',
    });
    const rules = [
      ...specifiedRules,
      queryLimitsRule(config.limits.graphqlMaxDepth, config.limits.graphqlMaxCost, config.limits.pageMax),
    ];
    for (const { path, file, name } of named) {
      const served = assets.get(`/dashboard/operations/${file}.graphql`);
      expect({ path, file, served: served !== null }).toEqual({ path, file, served: true });
      const text = extractOperation(served!.body.toString('utf8'), name);
      const document = parse(text);
      const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations.map((o) => o.name?.value)).toEqual([name]);
      const errors = validate(schema, document, rules).map((e) => e.message);
      expect({ name, errors }).toEqual({ name, errors: [] });
    }
  });

  it('fails on a renamed field (the check above can fail)', async () => {
    const extractOperation = await extractor();
    const served = assets.get('/dashboard/operations/dashboard.graphql')!.body.toString('utf8');
    const renamed = served.replace('displayName', 'fullName');
    const errors = validate(schema, parse(extractOperation(renamed, 'DashboardMe')));
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('fullName')]);
  });

  it('uses every operation of client/dashboard.graphql', () => {
    const document = parse(readFileSync(join(__dirname, '..', '..', 'client', 'dashboard.graphql'), 'utf8'));
    const declared = document.definitions.flatMap((d) =>
      d.kind === Kind.OPERATION_DEFINITION ? [d.name!.value] : [],
    );
    const own = named.filter((n) => n.file === 'dashboard').map((n) => n.name);
    expect(declared.sort()).toEqual([...new Set(own)].sort());
  });

  it('writes no operation twice: the page sends the shared ones (monitoring.graphql) and declares only its own', () => {
    expect(named.filter((n) => n.file === 'monitoring').map((n) => n.name)).toEqual(
      expect.arrayContaining(['MonitoringOverview', 'DriftAlerts', 'DriftChecks', 'DriftDetected']),
    );
    /** Root fields each operation of a client document selects. */
    const rootFields = (file: string) =>
      parse(readFileSync(join(__dirname, '..', '..', 'client', file), 'utf8')).definitions.flatMap((d) =>
        d.kind === Kind.OPERATION_DEFINITION
          ? d.selectionSet.selections.flatMap((s) =>
              s.kind === Kind.FIELD ? [`${d.operation} ${s.name.value}`] : [],
            )
          : [],
      );
    const others = new Set(
      readdirSync(join(__dirname, '..', '..', 'client'))
        .filter((f) => f.endsWith('.graphql') && f !== 'dashboard.graphql')
        .flatMap(rootFields),
    );
    expect(rootFields('dashboard.graphql').filter((f) => others.has(f))).toEqual([]);
    expect(others.has('query monitoringOverview')).toBe(true);
  });

  it('writes no GraphQL inline in the modules', () => {
    // A string that opens an operation (`'query X {'`, `'mutation($id: ID!) {'`, `'{ me {'`), outside comments.
    const inline = /['"`]\s*(?:(?:query|mutation|subscription)\b\s*\w*\s*[({]|\{\s*\w+\s*[({])/;
    const code = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(modules.filter((m) => inline.test(code(m.source))).map((m) => m.path)).toEqual([]);
    expect(inline.test(code("gql('{ me { displayName } }')"))).toBe(true);
    expect(inline.test(code("'mutation($id: ID!) { ' + mutation"))).toBe(true);
  });
});

describe('extractOperation', () => {
  it('takes one operation and the fragments it uses, ignoring braces in strings, comments and defaults', async () => {
    const extractOperation = await extractor();
    const document = [
      '# query Commented { x }',
      'query A($i: In = {a: "}"}) { x(s: """ } ...G """) { ...F } }',
      'fragment G on T { z }',
      'fragment F on T { y ...H }',
      'fragment H on T { w ... on U { v } }',
      'mutation B { b }',
    ].join('\n');
    expect(extractOperation(document, 'A')).toBe(
      [
        'query A($i: In = {a: "}"}) { x(s: """ } ...G """) { ...F } }',
        'fragment F on T { y ...H }',
        'fragment H on T { w ... on U { v } }',
      ].join('\n\n'),
    );
    expect(extractOperation(document, 'B')).toBe('mutation B { b }');
    expect(() => extractOperation(document, 'Commented')).toThrow('no operation Commented');
    expect(() => extractOperation('query C { ...Missing }', 'C')).toThrow('no fragment Missing');
  });
});

describe('dashboardAssets', () => {
  it('serves every module of the page as JavaScript, and every relative import resolves to a served module', () => {
    expect(modules.map((m) => m.path)).toEqual(
      expect.arrayContaining([
        '/dashboard/main.js',
        '/dashboard/lib/graphql.js',
        '/dashboard/panels/alerts.js',
      ]),
    );
    for (const { path, source } of modules) {
      expect({ path, type: assets.get(path)!.contentType }).toEqual({
        path,
        type: 'text/javascript; charset=utf-8',
      });
      for (const [, specifier] of source.matchAll(/^\s*import\s[^'"]*'([^']+)'/gm)) {
        const target = posix.join(posix.dirname(path), specifier);
        expect({ path, specifier, served: assets.get(target) !== null }).toEqual({
          path,
          specifier,
          served: true,
        });
      }
    }
    const page = assets.get('/dashboard')!.body.toString('utf8');
    expect(page).toContain('<script type="module" src="/dashboard/main.js"></script>');
  });

  it('answers only the files it read at start-up', () => {
    for (const path of [
      '/dashboard/nope.js',
      '/dashboard/lib',
      '/dashboard/lib/',
      '/dashboard/../package.json',
      '/dashboard/lib/../../../package.json',
      '/dashboard/%2e%2e/%2e%2e/package.json',
      '/dashboard/operations/generated.ts',
      '/dashboard/operations/../generated.ts',
      '/dashboard/main.js/',
      '/dashboard/MAIN.JS',
      '/dashboard/constructor',
    ])
      expect({ path, asset: assets.get(path) }).toEqual({ path, asset: null });
    expect(assets.paths().every((p) => p === '/dashboard' || p.startsWith('/dashboard/'))).toBe(true);
  });
});

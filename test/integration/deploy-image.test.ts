/**
 * The runtime stage of deploy/Dockerfile, assembled without a container engine: the build stage's
 * command (the TypeScript build) runs here, the final stage's COPY instructions lay the files out in a
 * folder standing in for WORKDIR, its ENV is applied, and its CMD starts the server. The server must
 * become ready (database, object store, both models), serve the dashboard page and /metrics, pass the
 * image's HEALTHCHECK command, and stop cleanly on the STOPSIGNAL. Everything the compiled code
 * requires must be a production dependency (the image prunes dev dependencies).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../support/test-database';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DockerfileParser } = require('dockerfile-ast') as typeof import('dockerfile-ast');

const ROOT = join(__dirname, '..', '..');

interface RuntimeStage {
  workdir: string;
  env: Record<string, string>;
  copies: { from: string | null; sources: string[]; dest: string }[];
  cmd: string[];
  healthcheck: string[];
  stopSignal: string;
}

/** The final stage of the Dockerfile, as the instructions that shape the running container. */
function runtimeStage(): RuntimeStage {
  const text = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const instructions = DockerfileParser.parse(text).getInstructions();
  const lastFrom = instructions.map((i) => i.getKeyword()).lastIndexOf('FROM');
  const stage: RuntimeStage = {
    workdir: '/',
    env: {},
    copies: [],
    cmd: [],
    healthcheck: [],
    stopSignal: 'SIGTERM',
  };
  for (const i of instructions.slice(lastFrom + 1)) {
    const args = i.getArguments().map((a) => a.getValue());
    const content = i.getArgumentsContent() ?? '';
    switch (i.getKeyword()) {
      case 'WORKDIR':
        stage.workdir = args[0]!;
        break;
      case 'ENV':
        for (const a of args) {
          const [k, ...v] = a.split('=');
          stage.env[k!] = v.join('=');
        }
        break;
      case 'COPY': {
        const flags = (
          i as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }
        ).getFlags();
        const from = flags.find((f) => f.getName() === 'from');
        stage.copies.push({ from: from?.getValue() ?? null, sources: args.slice(0, -1), dest: args.at(-1)! });
        break;
      }
      case 'CMD':
        stage.cmd = JSON.parse(content) as string[];
        break;
      case 'HEALTHCHECK':
        stage.healthcheck = JSON.parse(content.slice(content.indexOf('CMD') + 3).trim()) as string[];
        break;
      case 'STOPSIGNAL':
        stage.stopSignal = args[0]!;
        break;
    }
  }
  return stage;
}

/** Bare package names the compiled code requires. */
function requiredPackages(dir: string): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js'))
        for (const m of readFileSync(p, 'utf8').matchAll(/require\(["']([^"'./][^"']*)["']\)/g)) {
          const spec = m[1]!;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!name.startsWith('node:') && !builtinModules.includes(name)) out.add(name);
        }
    }
  };
  walk(dir);
  return out;
}

describe('deploy/Dockerfile runtime stage (assembled without a container engine)', () => {
  const stage = runtimeStage();
  let work: string;
  let app: string;
  let db: TestDatabase;
  let server: ChildProcess | null = null;
  let url = '';
  let log = '';
  const token = randomBytes(16).toString('hex');

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cc-image-'));
    app = join(work, 'app');
    mkdirSync(app, { recursive: true });
    // The build stage: `npm run build`, written straight into the runtime layout's dist/.
    const build = spawnSync(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(app, 'dist'),
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 280_000 },
    );
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    const inApp = (p: string) =>
      join(app, p.replace(new RegExp(`^${stage.workdir}/?`), '').replace(/^\.\//, ''));
    for (const copy of stage.copies) {
      for (const source of copy.sources) {
        const target =
          copy.sources.length > 1 || copy.dest.endsWith('/')
            ? join(inApp(copy.dest), source)
            : inApp(copy.dest);
        if (copy.from === 'build') {
          // The build stage is /app = the repository plus the build output.
          const rel = source.replace(/^\/app\/?/, '');
          if (rel === 'dist') continue; // built above, in place
          mkdirSync(dirname(target), { recursive: true });
          if (rel === 'node_modules') symlinkSync(join(ROOT, 'node_modules'), target);
          else cpSync(join(ROOT, rel), target, { recursive: true });
        } else if (basename(source).includes('*')) {
          // A wildcard source (`COPY client/*.graphql ./client/`): each match lands in the destination folder.
          const pattern = new RegExp(
            `^${basename(source)
              .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')}$`,
          );
          const dir = dirname(source);
          const matches = readdirSync(join(ROOT, dir)).filter((f) => pattern.test(f));
          if (matches.length === 0) throw new Error(`COPY source ${source} matches nothing in the context`);
          mkdirSync(inApp(copy.dest), { recursive: true });
          for (const f of matches) symlinkSync(join(ROOT, dir, f), join(inApp(copy.dest), f));
        } else {
          if (!existsSync(join(ROOT, source)))
            throw new Error(`COPY source ${source} is missing from the context`);
          mkdirSync(dirname(target), { recursive: true });
          symlinkSync(join(ROOT, source), target);
        }
      }
    }
    db = await createTestDatabase();
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(stage.env)) env[k] = v.replace(stage.workdir, app);
    server = spawn(stage.cmd[0] === 'node' ? process.execPath : stage.cmd[0]!, stage.cmd.slice(1), {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        ...env,
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: db.url,
        AUTH_SECRET: randomBytes(32).toString('hex'),
        STORAGE_FS_DIR: join(work, 'objects'),
        METRICS_TOKEN: token,
        ANALYSIS_WORKERS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line; log:\n${log}`)), 120_000);
      server!.once('exit', (code) => reject(new Error(`server exited ${code}; log:\n${log}`)));
      server!.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      server!.stdout!.on('data', (d: Buffer) => {
        log += d.toString();
        for (const line of d.toString().split('\n')) {
          if (!line.includes('Care Companion API ready')) continue;
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url: string }).url.replace(/\/graphql$/, ''));
        }
      });
    });
  }, 300_000);

  afterAll(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    await db?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('starts from CMD as the production build and is ready with both models', async () => {
    expect(stage.env.NODE_ENV).toBe('production');
    const res = await fetch(`${url}/health/ready`);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { activeModels: 'ok' } });
    expect(res.status).toBe(200);
  });

  it('serves the dashboard page and /metrics (with the scrape token)', async () => {
    const page = await fetch(`${url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // The page's modules and the named operations they send ship in the image too.
    const script = await fetch(`${url}/dashboard/main.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([
      200,
      expect.stringMatching(/javascript/),
    ]);
    const operations = await fetch(`${url}/dashboard/operations/dashboard.graphql`);
    expect(operations.status).toBe(200);
    expect(await operations.text()).toMatch(/^query \w+/m);
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^care_companion_model_loaded\{task="chest"/m);
  });

  it("passes the image's HEALTHCHECK command", () => {
    const [cmd, ...args] = stage.healthcheck;
    const r = spawnSync(cmd === 'node' ? process.execPath : cmd!, args, {
      env: { PATH: process.env.PATH, PORT: new URL(url).port },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  it('requires only packages that survive `npm prune --omit=dev` from the compiled code', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const required = [
      ...requiredPackages(join(app, 'dist', 'src')),
      ...requiredPackages(join(app, 'dist', 'migrations')),
    ];
    expect(required.length).toBeGreaterThan(10);
    const pruned = required.filter((name) => {
      const entry = lock.packages[`node_modules/${name}`];
      return !entry || entry.dev === true;
    });
    expect(pruned).toEqual([]);
  });

  it('stops cleanly on its STOPSIGNAL', async () => {
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      server!.once('exit', (code, signal) => resolve([code, signal])),
    );
    server!.kill(stage.stopSignal as NodeJS.Signals);
    expect([await exited, log.slice(-2000)]).toEqual([[0, null], expect.anything()]);
  });
});

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config';

/** A valid production environment. */
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://u:p@db:5432/care',
  AUTH_SECRET: 'Zq3vN8tLw1pR6yK0sB5mH2cJ9dF4gX7e',
  METRICS_TOKEN: 'mT4kQ9zR2vX7pL1w',
};

describe('loadConfig: defaults, and what production changes', () => {
  it('starts with embedded defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.database.url).toBeNull();
    expect(c.storage.driver).toBe('fs');
    expect(c.auth.secret).toBeNull();
    expect(c.auth.secretFile).toBe('./data/auth-secret');
    expect(c.pubsubDriver).toBe('memory');
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 4000 });
  });

  it('keeps the install state under DATA_DIR unless a folder is named on its own', () => {
    const c = loadConfig({ DATA_DIR: '/srv/care/' });
    expect([c.dataDir, c.database.embeddedDir, c.storage, c.auth.secretFile]).toEqual([
      '/srv/care',
      '/srv/care/pglite',
      { driver: 'fs', dir: '/srv/care/objects' },
      '/srv/care/auth-secret',
    ]);
    expect(loadConfig({ DATA_DIR: '/srv/care', STORAGE_FS_DIR: '/mnt/objects' }).storage).toEqual({
      driver: 'fs',
      dir: '/mnt/objects',
    });
  });

  it('listens on loopback outside production and on every interface in production, unless HOST is set', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).http.host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test' }).http.host).toBe('127.0.0.1');
    expect(loadConfig({ ...PRODUCTION }).http.host).toBe('0.0.0.0');
    expect(loadConfig({ NODE_ENV: 'development', HOST: '0.0.0.0' }).http.host).toBe('0.0.0.0');
  });

  it('requires a metrics token in production unless METRICS_OPEN=true says the network keeps /metrics private', () => {
    const { METRICS_TOKEN: _token, ...withoutToken } = PRODUCTION;
    expect(() => loadConfig(withoutToken)).toThrow(/METRICS_TOKEN: is required in production/);
    expect(loadConfig({ ...withoutToken, METRICS_OPEN: 'true' }).monitoring.metricsToken).toBeNull();
    expect(loadConfig({ NODE_ENV: 'development' }).monitoring.metricsToken).toBeNull();
  });

  it('switches the embedded defaults off with production settings', () => {
    const c = loadConfig({
      ...PRODUCTION,
      STORAGE_DRIVER: 'minio',
      MINIO_ENDPOINT: 'http://minio:9000',
      MINIO_ACCESS_KEY: 'ak',
      MINIO_SECRET_KEY: 'sk',
    });
    expect(c.pubsubDriver).toBe('postgres');
    expect(c.storage).toMatchObject({
      driver: 'minio',
      endpoint: 'http://minio:9000',
      bucket: 'care-companion',
    });
    expect(c.auth.secret).toBe(PRODUCTION.AUTH_SECRET);
  });
});

describe('loadConfig: refusals name the variable and the rule', () => {
  it('names the variable and the rule, never the value', () => {
    const secret = 'short-secret-value';
    try {
      loadConfig({ AUTH_SECRET: secret, PORT: 'eighty', NODE_ENV: 'production' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain('AUTH_SECRET');
      expect(message).toContain('PORT');
      expect(message).not.toContain(secret);
    }
  });

  it('requires a database URL and a secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /DATABASE_URL: is required in production[\s\S]*AUTH_SECRET: is required in production/,
    );
  });

  it('refuses a weak AUTH_SECRET in production: short or repetitive', () => {
    const production = { ...PRODUCTION };
    for (const weak of ['short', 'x'.repeat(40), 'abcabcabcabcabcabcabcabcabcabcabcabc']) {
      let message = '';
      try {
        loadConfig({ ...production, AUTH_SECRET: weak });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/AUTH_SECRET: (must be at least 32 characters|is too weak for production)/);
      expect(message).not.toContain(weak);
    }
    // Control: a random secret passes, and development still starts without one (per-install secret).
    expect(loadConfig({ ...production }).auth.secret).toBe(PRODUCTION.AUTH_SECRET);
    expect(loadConfig({ NODE_ENV: 'development' }).auth.secret).toBeNull();
  });

  it('requires MinIO credentials when STORAGE_DRIVER=minio', () => {
    expect(() => loadConfig({ STORAGE_DRIVER: 'minio' })).toThrow(/MINIO_ENDPOINT.*\n.*MINIO_ACCESS_KEY/s);
  });
});

describe('loadConfig: inference and note drafting', () => {
  it('serves fp32 graphs unless ENGINE_PRECISION=int8, and names the setting when it is neither', () => {
    expect(loadConfig({}).inference.precision).toBe('fp32');
    expect(loadConfig({ ENGINE_PRECISION: 'int8' }).inference.precision).toBe('int8');
    expect(() => loadConfig({ ENGINE_PRECISION: 'int4' })).toThrow(/ENGINE_PRECISION/);
  });

  it('runs model sessions on worker threads unless ENGINE_SESSION_THREAD=main', () => {
    expect(loadConfig({}).inference.sessionThread).toBe('worker');
    expect(loadConfig({ ENGINE_SESSION_THREAD: 'main' }).inference.sessionThread).toBe('main');
    expect(() => loadConfig({ ENGINE_SESSION_THREAD: 'gpu' })).toThrow(/ENGINE_SESSION_THREAD/);
  });

  it('runs two model instances per version with worker sessions, one on the event loop, and refuses more there', () => {
    expect(loadConfig({}).inference.instances).toBe(Math.min(2, availableParallelism()));
    expect(loadConfig({ ENGINE_SESSION_THREAD: 'main' }).inference.instances).toBe(1);
    expect(loadConfig({ ENGINE_INSTANCES: '4' }).inference.instances).toBe(4);
    expect(() => loadConfig({ ENGINE_INSTANCES: '2', ENGINE_SESSION_THREAD: 'main' })).toThrow(
      /ENGINE_INSTANCES: above 1 needs ENGINE_SESSION_THREAD=worker/,
    );
    expect(() => loadConfig({ ENGINE_INSTANCES: '0' })).toThrow(/ENGINE_INSTANCES/);
  });

  it('keeps a lone batch off the every-thread session from 75% host CPU, and takes a load in (0, 1]', () => {
    expect(loadConfig({}).inference.loneBatchMaxLoad).toBe(0.75);
    expect(loadConfig({ ENGINE_LONE_BATCH_MAX_LOAD: '1' }).inference.loneBatchMaxLoad).toBe(1);
    for (const bad of ['0', '1.5', 'busy'])
      expect(() => loadConfig({ ENGINE_LONE_BATCH_MAX_LOAD: bad })).toThrow(/ENGINE_LONE_BATCH_MAX_LOAD/);
  });

  it('drafts notes with the embedded template unless another backend is configured', () => {
    expect(loadConfig({}).notes).toMatchObject({
      backend: { kind: 'template' },
      readability: { maxGrade: 8, minSzigriszt: 55 },
    });
    expect(
      loadConfig({
        NOTE_BACKEND: 'openai',
        NOTE_OPENAI_BASE_URL: 'http://localhost:11434/v1',
        NOTE_OPENAI_MODEL: 'llama3.1:8b',
        NOTE_OPENAI_STREAM: 'false',
      }).notes.backend,
    ).toEqual({
      kind: 'openai',
      baseUrl: 'http://localhost:11434/v1',
      model: 'llama3.1:8b',
      apiKey: null,
      stream: false,
    });
    expect(loadConfig({ NOTE_BACKEND: 'llama-cpp', NOTE_GGUF_PATH: '/m.gguf' }).notes.backend).toEqual({
      kind: 'llama-cpp',
      modelPath: '/m.gguf',
      gpu: false,
      contextSize: 4096,
      threads: 0,
    });
  });

  it('requires the URL and model of an OpenAI-compatible backend, and the GGUF file of llama-cpp', () => {
    expect(() => loadConfig({ NOTE_BACKEND: 'openai' })).toThrow(
      /NOTE_OPENAI_BASE_URL: is required when NOTE_BACKEND=openai[\s\S]*NOTE_OPENAI_MODEL/,
    );
    expect(() => loadConfig({ NOTE_BACKEND: 'llama-cpp' })).toThrow(/NOTE_GGUF_PATH: is required/);
    expect(() =>
      loadConfig({ NOTE_BACKEND: 'openai', NOTE_OPENAI_BASE_URL: 'ftp://x/v1', NOTE_OPENAI_MODEL: 'm' }),
    ).toThrow(/NOTE_OPENAI_BASE_URL/);
    expect(() => loadConfig({ NOTE_BACKEND: 'gpt' })).toThrow(/NOTE_BACKEND/);
  });
});

describe('loadConfig: .env.example', () => {
  it('documents every variable it reads in .env.example', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const source = readFileSync(__filename.replace('.spec.ts', '.ts'), 'utf8');
    const variables = [...source.matchAll(/\benv\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]);
    expect(variables.length).toBeGreaterThan(20);
    // Each variable is stated once: one setting, one rule.
    expect(new Set(variables).size).toBe(variables.length);
    for (const v of variables) expect(example).toMatch(new RegExp(`^${v}=`, 'm'));
  });
});

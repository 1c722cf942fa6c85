import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** The `aud` claim tokens carry unless AUTH_AUDIENCE says otherwise; tokens for another audience are refused. */
export const DEFAULT_AUTH_AUDIENCE = 'care-companion-api';

/** A production AUTH_SECRET needs this many distinct characters: `x` × 40 is 40 characters and no secret. */
const MIN_SECRET_DISTINCT_CHARACTERS = 12;

/**
 * A setting read from the environment variable `name` and checked by `rule`: the one place the
 * variable is stated. The name rides on the rule (its description), so that {@link loadConfig} reads
 * the variable and names it in errors.
 */
function env<T extends z.ZodTypeAny>(name: string, rule: T): T {
  return rule.describe(name);
}

/** A `true`/`false` switch. */
const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');

/** A variable that may be unset: null then. */
const orNull = <T extends z.ZodTypeAny>(rule: T) =>
  rule.optional().transform((v): z.output<T> | null => v ?? null);

/** Adds "`message`" to each of `keys` that is unset. */
function requireEach<T extends Record<string, unknown>>(
  section: T,
  keys: readonly (keyof T & string)[],
  message: string,
  ctx: z.RefinementCtx,
): void {
  for (const key of keys)
    if (!section[key]) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message });
}

const http = z.object({
  /** Interface to listen on: loopback by default, every interface (`0.0.0.0`) by default in production. */
  host: env('HOST', z.string().min(1).optional()),
  port: env('PORT', z.coerce.number().int().min(0).max(65535).default(4000)),
  /** A connection that has not sent complete request headers by then is closed (slow-header attacks). */
  headersTimeoutMs: env(
    'HTTP_HEADERS_TIMEOUT_MS',
    z.coerce.number().int().min(500).max(120_000).default(10_000),
  ),
  /** Open connections (HTTP and WebSocket) beyond which new ones are refused. */
  maxConnections: env('HTTP_MAX_CONNECTIONS', z.coerce.number().int().min(16).default(8192)),
});

const database = z.object({
  url: env('DATABASE_URL', orNull(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'))),
  poolMax: env('DATABASE_POOL_MAX', z.coerce.number().int().min(1).max(200).default(10)),
  /** Default: `<DATA_DIR>/pglite`. */
  embeddedDir: env('EMBEDDED_DB_DIR', z.string().optional()),
});

const storage = z
  .object({
    driver: env('STORAGE_DRIVER', z.enum(['fs', 'minio']).default('fs')),
    /** Default: `<DATA_DIR>/objects`. */
    dir: env('STORAGE_FS_DIR', z.string().optional()),
    endpoint: env('MINIO_ENDPOINT', z.string().url('must be a URL such as http://minio:9000').optional()),
    accessKey: env('MINIO_ACCESS_KEY', z.string().min(1).optional()),
    secretKey: env('MINIO_SECRET_KEY', z.string().min(1).optional()),
    bucket: env(
      'MINIO_BUCKET',
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
        .default('care-companion'),
    ),
    region: env('MINIO_REGION', z.string().default('us-east-1')),
  })
  .superRefine((s, ctx) => {
    if (s.driver === 'minio')
      requireEach(s, ['endpoint', 'accessKey', 'secretKey'], 'is required when STORAGE_DRIVER=minio', ctx);
  });

const auth = z.object({
  /**
   * AUTH_SECRET; null outside production when it is not set: tokens are then signed with the random
   * per-install secret kept at `secretFile` (created on first use, see `auth/install-secret.ts`).
   */
  secret: env('AUTH_SECRET', orNull(z.string().min(32, 'must be at least 32 characters'))),
  issuer: env('AUTH_ISSUER', z.string().default('care-companion')),
  /** The `aud` claim minted into tokens and required of every token presented. */
  audience: env('AUTH_AUDIENCE', z.string().min(1).default(DEFAULT_AUTH_AUDIENCE)),
  tokenTtlSeconds: env(
    'AUTH_TOKEN_TTL_SECONDS',
    z.coerce
      .number()
      .int()
      .min(60)
      .default(8 * 3600),
  ),
  /** How long an authenticated user's role and status are reused before the database is asked again. */
  principalCacheMs: env('AUTH_PRINCIPAL_CACHE_MS', z.coerce.number().int().min(0).max(60_000).default(2000)),
});

const limits = z.object({
  maxUploadBytes: env(
    'MAX_UPLOAD_BYTES',
    z.coerce
      .number()
      .int()
      .min(1024)
      .default(200 * 1024 * 1024),
  ),
  maxImagePixels: env('MAX_IMAGE_PIXELS', z.coerce.number().int().min(1024).default(50_000_000)),
  maxBase64UploadBytes: env(
    'MAX_BASE64_UPLOAD_BYTES',
    z.coerce
      .number()
      .int()
      .min(1024)
      .default(2 * 1024 * 1024),
  ),
  /** Uploads never attached are removed (row and object) once older than this, in seconds. */
  uploadRetentionSeconds: env('UPLOAD_RETENTION_SECONDS', z.coerce.number().int().min(60).default(86_400)),
  /** How often each process sweeps uploads never attached, in seconds (0: never). */
  uploadSweepIntervalSeconds: env(
    'UPLOAD_SWEEP_INTERVAL_SECONDS',
    z.coerce.number().int().min(0).default(3600),
  ),
  graphqlMaxDepth: env('GRAPHQL_MAX_DEPTH', z.coerce.number().int().min(2).max(50).default(10)),
  graphqlMaxCost: env('GRAPHQL_MAX_COST', z.coerce.number().int().min(10).default(5000)),
  pageMax: env('GRAPHQL_PAGE_MAX', z.coerce.number().int().min(1).max(1000).default(100)),
  /** Most lexical tokens in one GraphQL document; the parser stops beyond it. */
  graphqlMaxTokens: env(
    'GRAPHQL_MAX_TOKENS',
    z.coerce.number().int().min(100).max(1_000_000).default(10_000),
  ),
  /** Rate budget per token per minute, in operation cost units (one per root field, at least one per request). */
  rateLimitPerMinute: env('RATE_LIMIT_PER_MINUTE', z.coerce.number().int().min(0).default(1200)),
  /** Live subscriptions one WebSocket may hold. */
  subscriptionsPerSocket: env('WS_MAX_SUBSCRIPTIONS_PER_SOCKET', z.coerce.number().int().min(1).default(20)),
  /** Live subscriptions one user may hold across sockets (per process). */
  subscriptionsPerUser: env('WS_MAX_SUBSCRIPTIONS_PER_USER', z.coerce.number().int().min(1).default(50)),
});

/** Subscription delivery (fan-out) over WebSocket. */
const subscriptions = z.object({
  /**
   * Bytes that may wait to be sent to one socket; a socket with more is closed with 4008 (slow
   * consumer) and its events dropped.
   */
  slowConsumerBytes: env(
    'WS_SLOW_CONSUMER_BYTES',
    z.coerce
      .number()
      .int()
      .min(4096)
      .default(1024 * 1024),
  ),
  /** How often each open socket's user is re-checked besides on changes (ms): a backstop. */
  authRecheckMs: env('WS_AUTH_RECHECK_MS', z.coerce.number().int().min(1000).max(3_600_000).default(30_000)),
  /** Events executed at once (each uses the shared database pool for its reads). */
  executionConcurrency: env(
    'SUBSCRIPTION_EXECUTION_CONCURRENCY',
    z.coerce.number().int().min(1).max(64).default(2),
  ),
  /** Events received and not yet delivered beyond which new events are dropped (and counted). */
  maxQueuedEvents: env(
    'SUBSCRIPTION_QUEUE_MAX',
    z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  ),
  /** How long the audit rows of deliveries wait to be written in one INSERT (ms). */
  auditFlushMs: env('SUBSCRIPTION_AUDIT_FLUSH_MS', z.coerce.number().int().min(1).max(10_000).default(100)),
});

const inference = z
  .object({
    executionProviders: env(
      'EXECUTION_PROVIDERS',
      z
        .string()
        .regex(/^[a-z]+(,[a-z]+)*$/, 'must be a comma-separated list such as cuda,cpu')
        .default('cpu')
        .transform((v) => v.split(',')),
    ),
    maxBatchSize: env('ENGINE_MAX_BATCH_SIZE', z.coerce.number().int().min(1).max(256).default(16)),
    maxQueueDelayMs: env('ENGINE_MAX_QUEUE_DELAY_MS', z.coerce.number().min(0).max(1000).default(0)),
    maxQueueSize: env('ENGINE_MAX_QUEUE_SIZE', z.coerce.number().int().min(1).default(2048)),
    maxPredictedWaitMs: env('ENGINE_MAX_PREDICTED_WAIT_MS', z.coerce.number().int().min(1).default(10_000)),
    /** 0 lets the runtime choose. */
    intraOpThreads: env('ENGINE_INTRA_OP_THREADS', z.coerce.number().int().min(0).default(0)),
    /** Idle onnxruntime threads spin-wait for work instead of sleeping (for a host that runs nothing else). */
    spinWait: env('ENGINE_SPIN_WAIT', flag('false')),
    /**
     * `int8` serves each version's accepted int8 graph (model.json `variants.int8`; chest v2 has one)
     * and model.onnx for versions without one.
     */
    precision: env('ENGINE_PRECISION', z.enum(['fp32', 'int8']).default('fp32')),
    /**
     * Where sessions run: `worker` (one worker thread per loaded model, so a batch never blocks the
     * event loop) or `main` (on the event loop, as onnxruntime-node does by itself).
     */
    sessionThread: env('ENGINE_SESSION_THREAD', z.enum(['worker', 'main']).default('worker')),
    /**
     * Model instances per version that run batches side by side under load, each with its share of
     * the cores (a batch that runs alone uses one session with every thread). Default: 2 on a machine
     * with two or more cores when sessions run on worker threads, else 1.
     */
    instances: env('ENGINE_INSTANCES', z.coerce.number().int().min(1).max(64).optional()),
    /**
     * With instances: the host CPU utilisation (0–1, all processes, over the last 100 ms) from which a
     * batch that is alone runs on an instance instead of the session with every thread, whose extra
     * threads only help on idle cores. 1 keeps the lone batch on every thread whatever the load.
     */
    loneBatchMaxLoad: env('ENGINE_LONE_BATCH_MAX_LOAD', z.coerce.number().gt(0).max(1).default(0.75)),
    /** Decode worker threads; 0 decodes on the event loop; default (null) one per CPU. */
    decodeWorkers: env('DECODE_WORKERS', orNull(z.coerce.number().int().min(0).max(64))),
  })
  .superRefine((s, ctx) => {
    if (s.instances !== undefined && s.instances > 1 && s.sessionThread === 'main')
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['instances'],
        message: 'above 1 needs ENGINE_SESSION_THREAD=worker (sessions on the event loop run one at a time)',
      });
  })
  .transform((s) => ({
    ...s,
    instances: s.instances ?? (s.sessionThread === 'worker' ? Math.min(2, availableParallelism()) : 1),
  }));

const analysis = z.object({
  workers: env('ANALYSIS_WORKERS', z.coerce.number().int().min(0).max(64).default(2)),
  deadlineMs: env('ANALYSIS_DEADLINE_MS', z.coerce.number().int().min(100).default(30_000)),
  shadowMode: env('SHADOW_MODE', flag('false')),
  heatmapSize: env('HEATMAP_SIZE', z.coerce.number().int().min(64).max(1024).default(256)),
  /**
   * The department reads wrist studies that have only a PA or only a LATERAL view (with a model that
   * reads views one at a time); the reading names the missing view. False: WRIST_VIEWS_REQUIRED.
   */
  wristSingleView: env('WRIST_SINGLE_VIEW', flag('false')),
  /**
   * How long one batch item may stay taken before it is handed to another worker: the bound on how
   * long a study of a crashed process waits. Must exceed the slowest single analysis.
   */
  jobExpireSeconds: env(
    'ANALYSIS_JOB_EXPIRE_SECONDS',
    z.coerce.number().int().min(1).max(86_400).default(300),
  ),
});

/** DICOMweb PACS for ingestion and result export (null: none configured; STOW-RS still accepted). */
const pacs = z
  .object({
    baseUrl: env(
      'PACS_DICOMWEB_URL',
      z.string().url('must be a URL such as http://pacs:8042/dicom-web').optional(),
    ),
    username: env('PACS_USERNAME', orNull(z.string().min(1))),
    password: env('PACS_PASSWORD', orNull(z.string())),
    bearerToken: env('PACS_BEARER_TOKEN', orNull(z.string().min(1))),
    timeoutMs: env('PACS_TIMEOUT_MS', z.coerce.number().int().min(100).default(60_000)),
    maxResponseBytes: env(
      'PACS_MAX_RETRIEVE_BYTES',
      z.coerce
        .number()
        .int()
        .min(1024)
        .default(1024 * 1024 * 1024),
    ),
  })
  .transform(({ baseUrl, ...rest }) => (baseUrl ? { baseUrl, ...rest } : null));

const dicom = z.object({
  uidRoot: env(
    'DICOM_UID_ROOT',
    z
      .string()
      .max(24, 'must be at most 24 characters (a UID has 64)')
      .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/, 'must be a DICOM UID root such as 2.25')
      .default('2.25'),
  ),
  /**
   * Issuer of Patient ID (0010,0021) of this hospital's MRNs: a DICOM file naming another issuer is
   * refused at attach (PATIENT_ID_ISSUER_MISMATCH) unless accepted explicitly. Null: not checked.
   */
  patientIdIssuer: env(
    'DICOM_PATIENT_ID_ISSUER',
    z
      .string()
      .max(64, 'must be at most 64 characters (DICOM LO)')
      .optional()
      .transform((v) => v || null),
  ),
  stowMaxBytes: env(
    'STOW_MAX_BYTES',
    z.coerce
      .number()
      .int()
      .min(1024)
      .default(512 * 1024 * 1024),
  ),
  /** Most instances (body parts) in one STOW-RS request. */
  stowMaxInstances: env('STOW_MAX_INSTANCES', z.coerce.number().int().min(1).max(10_000).default(100)),
});

const monitoring = z.object({
  /**
   * Bearer token `GET /metrics` requires; null leaves it open, which production allows only with
   * METRICS_OPEN=true (the network must then keep it private).
   */
  metricsToken: env('METRICS_TOKEN', orNull(z.string().min(16, 'must be at least 16 characters'))),
  metricsOpen: env('METRICS_OPEN', flag('false')),
  /** Tasks that need an active model version for `/health/ready` to answer 200. */
  readyRequiredTasks: env(
    'READY_REQUIRED_TASKS',
    z
      .string()
      .regex(/^([a-z]+(,[a-z]+)*)?$/, 'must be a comma-separated list of tasks such as chest,wrist')
      .default('chest,wrist')
      .transform((v) => (v ? v.split(',') : [])),
  ),
  /** Longest wait for one readiness check (database, object store) and for scrape-time reads. */
  healthCheckTimeoutMs: env(
    'HEALTH_CHECK_TIMEOUT_MS',
    z.coerce.number().int().min(50).max(60_000).default(2000),
  ),
});

/** Which backend drafts notes; `template` needs no model and no network. */
const noteBackend = z
  .object({
    kind: env('NOTE_BACKEND', z.enum(['template', 'openai', 'llama-cpp']).default('template')),
    baseUrl: env(
      'NOTE_OPENAI_BASE_URL',
      z
        .string()
        .url('must be a URL such as http://localhost:8000/v1')
        .regex(/^https?:\/\//, 'must be an http(s) URL')
        .optional(),
    ),
    model: env('NOTE_OPENAI_MODEL', z.string().min(1).optional()),
    apiKey: env('NOTE_OPENAI_API_KEY', orNull(z.string().min(1))),
    stream: env('NOTE_OPENAI_STREAM', flag('true')),
    modelPath: env('NOTE_GGUF_PATH', z.string().min(1).optional()),
    gpu: env(
      'NOTE_LLAMA_GPU',
      z
        .enum(['false', 'auto', 'cuda', 'vulkan'])
        .default('false')
        .transform((v) => (v === 'false' ? false : v)),
    ),
    contextSize: env('NOTE_LLAMA_CONTEXT_SIZE', z.coerce.number().int().min(256).max(131072).default(4096)),
    /** CPU threads per generation; 0 lets node-llama-cpp choose. */
    threads: env('NOTE_LLAMA_THREADS', z.coerce.number().int().min(0).max(256).default(0)),
  })
  .superRefine((b, ctx) => {
    const message = `is required when NOTE_BACKEND=${b.kind}`;
    if (b.kind === 'openai') requireEach(b, ['baseUrl', 'model'], message, ctx);
    if (b.kind === 'llama-cpp') requireEach(b, ['modelPath'], message, ctx);
  })
  .transform(({ kind, baseUrl, model, apiKey, stream, modelPath, gpu, contextSize, threads }) =>
    kind === 'openai'
      ? { kind, baseUrl: baseUrl!, model: model!, apiKey, stream }
      : kind === 'llama-cpp'
        ? { kind, modelPath: modelPath!, gpu, contextSize, threads }
        : { kind },
  );

const notes = z.object({
  backend: noteBackend,
  maxTokens: env('NOTE_MAX_TOKENS', z.coerce.number().int().min(16).max(4096).default(400)),
  timeoutMs: env('NOTE_TIMEOUT_MS', z.coerce.number().int().min(100).max(600_000).default(60_000)),
  /** Readability targets of patient notes: FK grade (en) at most, Szigriszt-Pazos (es) at least. */
  readability: z.object({
    maxGrade: env('NOTE_PATIENT_MAX_GRADE', z.coerce.number().min(1).max(18).default(8)),
    minSzigriszt: env('NOTE_PATIENT_MIN_SZIGRISZT', z.coerce.number().min(0).max(100).default(55)),
  }),
});

const drift = z.object({
  enabled: env('DRIFT_ENABLED', flag('true')),
  /** Count windows: every this many accepted predictions of a model version are compared. */
  windowSize: env('DRIFT_WINDOW_SIZE', z.coerce.number().int().min(10).max(5000).default(100)),
  /** Time windows: the predictions of each period are compared (0 turns time windows off). */
  timeWindowMinutes: env('DRIFT_TIME_WINDOW_MINUTES', z.coerce.number().min(0).default(60)),
  /** A time window with fewer accepted predictions is not tested. */
  minWindowSize: env('DRIFT_MIN_WINDOW_SIZE', z.coerce.number().int().min(10).default(30)),
  /** Family-wise false-alarm level of the p-value tests (Bonferroni-shared). */
  alpha: env('DRIFT_ALPHA', z.coerce.number().gt(0).lt(1).default(0.01)),
  psiThreshold: env('DRIFT_PSI_THRESHOLD', z.coerce.number().gt(0).default(0.25)),
  permutations: env('DRIFT_PERMUTATIONS', z.coerce.number().int().min(19).max(10_000).default(500)),
  /** Drift samples older than this are deleted (checks and alerts are kept). */
  sampleRetentionDays: env('DRIFT_SAMPLE_RETENTION_DAYS', z.coerce.number().gt(0).default(30)),
});

const retraining = z
  .object({
    runner: env('RETRAIN_RUNNER', z.enum(['local', 'ray']).default('local')),
    rayAddress: env(
      'RAY_ADDRESS',
      orNull(z.string().url('must be the Ray dashboard URL such as http://ray-head:8265')),
    ),
    rayPython: env('RAY_PYTHON', z.string().min(1).default('python')),
    /** New corrections of a task that start a run by themselves; 0 switches the trigger off. */
    autoMinCorrections: env('RETRAIN_AUTO_MIN_CORRECTIONS', z.coerce.number().int().min(0).default(500)),
    workers: env('RETRAIN_WORKERS', z.coerce.number().int().min(0).max(4).default(1)),
    /** Default: `<DATA_DIR>/retraining`. */
    workDir: env('RETRAIN_WORK_DIR', z.string().optional()),
    smoke: env('RETRAIN_SMOKE', flag('false')),
    epochs: env('RETRAIN_EPOCHS', z.coerce.number().int().min(1).max(1000).default(40)),
    timeBudgetMin: env('RETRAIN_TIME_BUDGET_MIN', z.coerce.number().min(1).max(10_000).default(60)),
    baseFraction: env('RETRAIN_BASE_FRACTION', z.coerce.number().gt(0).max(1).default(1)),
    jobExpireSeconds: env(
      'RETRAIN_JOB_EXPIRE_SECONDS',
      z.coerce
        .number()
        .int()
        .min(10)
        .default(6 * 3600),
    ),
    gate: z.object({
      recallMargin: env('GATE_RECALL_MARGIN', z.coerce.number().min(0).max(1).default(0)),
      aurocTolerance: env('GATE_AUROC_TOLERANCE', z.coerce.number().min(0).max(1).default(0.02)),
      specificityTolerance: env('GATE_SPECIFICITY_TOLERANCE', z.coerce.number().min(0).max(1).default(0.05)),
    }),
  })
  .superRefine((s, ctx) => {
    if (s.runner === 'ray') requireEach(s, ['rayAddress'], 'is required when RETRAIN_RUNNER=ray', ctx);
  });

const siteValidation = z.object({
  /** Site evaluations this process runs at a time (0: it takes none). */
  workers: env('SITE_VALIDATION_WORKERS', z.coerce.number().int().min(0).max(4).default(1)),
  /** Bootstrap resamples behind each interval of a site evaluation. */
  resamples: env('SITE_VALIDATION_RESAMPLES', z.coerce.number().int().min(100).max(100_000).default(1000)),
  /** How long an evaluation may stay taken before another process retries it. */
  jobExpireSeconds: env(
    'SITE_EVALUATION_EXPIRE_SECONDS',
    z.coerce.number().int().min(10).max(86_400).default(3600),
  ),
});

/**
 * The one validated configuration of the product: each setting with the environment variable it is
 * read from. Only this folder reads `process.env`. Production settings (a PostgreSQL URL, MinIO
 * credentials, an auth secret) switch the embedded defaults (PGlite, filesystem store, the per-install
 * secret under DATA_DIR) off. Outside production the server listens on loopback unless HOST says otherwise.
 */
const settings = z.object({
  env: env('NODE_ENV', z.enum(['development', 'test', 'production']).default('development')),
  http,
  /**
   * Folder of the install's own state: the embedded database and object store by default, the
   * per-install signing secret (`auth-secret`) and the first admin's token.
   */
  dataDir: env(
    'DATA_DIR',
    z
      .string()
      .min(1)
      .default('./data')
      .transform((v) => v.replace(/\/+$/, '') || '/'),
  ),
  database,
  storage,
  auth,
  modelsDir: env('MODELS_DIR', z.string().default('./models')),
  /** How often each process re-reads the registry besides its events (ms); 0 only on events. */
  modelReconcileIntervalMs: env(
    'MODEL_RECONCILE_INTERVAL_MS',
    z.coerce.number().int().min(0).default(30_000),
  ),
  sharedDir: env('CARE_SHARED_DIR', z.string().default('../shared')),
  limits,
  subscriptions,
  logLevel: env(
    'LOG_LEVEL',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** Default: `postgres` with DATABASE_URL, else `memory`. */
  pubsubDriver: env('PUBSUB_DRIVER', z.enum(['postgres', 'memory']).optional()),
  inference,
  analysis,
  /** How often the job queue looks for expired items (any one process does it per interval). */
  jobs: z.object({
    maintenanceIntervalSeconds: env(
      'JOB_MAINTENANCE_INTERVAL_SECONDS',
      z.coerce.number().int().min(1).max(3600).default(60),
    ),
  }),
  pacs,
  dicom,
  monitoring,
  notes,
  drift,
  retraining,
  siteValidation,
});

const configSchema = settings.superRefine(requireProductionSettings).transform(withInstallDefaults);

/** Production needs a database, a strong secret, and a metrics token unless /metrics is kept private. */
function requireProductionSettings(c: z.output<typeof settings>, ctx: z.RefinementCtx): void {
  if (c.env !== 'production') return;
  const problem = (path: string[], message: string) =>
    ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
  if (!c.database.url) problem(['database', 'url'], 'is required in production');
  if (!c.auth.secret) problem(['auth', 'secret'], 'is required in production');
  else if (new Set(c.auth.secret).size < MIN_SECRET_DISTINCT_CHARACTERS)
    problem(
      ['auth', 'secret'],
      `is too weak for production (use a random value with at least ${MIN_SECRET_DISTINCT_CHARACTERS} distinct characters, e.g. openssl rand -base64 48)`,
    );
  if (!c.monitoring.metricsToken && !c.monitoring.metricsOpen)
    problem(
      ['monitoring', 'metricsToken'],
      'is required in production (or set METRICS_OPEN=true where only the private network reaches /metrics)',
    );
}

/** Defaults that depend on other settings: the listening host, folders under DATA_DIR, the PubSub driver, the store. */
function withInstallDefaults(c: z.output<typeof settings>) {
  const inData = (name: string) => `${c.dataDir}/${name}`;
  const { storage, ...rest } = c;
  const { driver, dir, endpoint, accessKey, secretKey, bucket, region } = storage;
  return {
    ...rest,
    http: { ...c.http, host: c.http.host ?? (c.env === 'production' ? '0.0.0.0' : '127.0.0.1') },
    database: { ...c.database, embeddedDir: c.database.embeddedDir ?? inData('pglite') },
    storage:
      driver === 'minio'
        ? {
            driver: 'minio' as const,
            endpoint: endpoint!,
            accessKey: accessKey!,
            secretKey: secretKey!,
            bucket,
            region,
          }
        : { driver: 'fs' as const, dir: dir ?? inData('objects') },
    auth: { ...c.auth, secretFile: inData('auth-secret') },
    pubsubDriver: c.pubsubDriver ?? (c.database.url ? 'postgres' : 'memory'),
    retraining: { ...c.retraining, workDir: c.retraining.workDir ?? inData('retraining') },
  };
}

/** Typed, validated configuration handed to the composition root. */
export type AppConfig = z.output<typeof configSchema>;

/** Raised when the environment is invalid; names variables and rules, never values. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The object or effect-wrapped object a section is, or null for a setting. */
function sectionShape(schema: z.ZodTypeAny): z.ZodRawShape | null {
  if (schema.description !== undefined) return null;
  if (schema instanceof z.ZodEffects) return sectionShape(schema.innerType());
  return schema instanceof z.ZodObject ? schema.shape : null;
}

/** The environment laid out as the schema's sections: each setting's variable under its key. */
function fromEnvironment(shape: z.ZodRawShape, source: NodeJS.ProcessEnv): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(shape).map(([key, schema]) => {
      const inner = sectionShape(schema);
      return [key, inner ? fromEnvironment(inner, source) : source[schema.description!]];
    }),
  );
}

/** The variable behind a setting's path (`['http', 'port']` → `PORT`), or the path itself. */
function variableAt(shape: z.ZodRawShape, path: (string | number)[]): string {
  let schema: z.ZodTypeAny | undefined;
  let inner: z.ZodRawShape | null = shape;
  for (const key of path) {
    schema = inner?.[key];
    inner = schema ? sectionShape(schema) : null;
  }
  return schema?.description ?? (path.join('.') || '(root)');
}

/** Validates an environment (default: `process.env`) into an {@link AppConfig}. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const shape = settings.shape;
  const parsed = configSchema.safeParse(fromEnvironment(shape, source));
  if (!parsed.success)
    throw new ConfigError(parsed.error.issues.map((i) => `${variableAt(shape, i.path)}: ${i.message}`));
  return parsed.data;
}

import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** The `aud` claim tokens carry unless AUTH_AUDIENCE says otherwise; tokens for another audience are refused. */
export const DEFAULT_AUTH_AUDIENCE = 'care-companion-api';

/** A production AUTH_SECRET needs this many distinct characters: `x` × 40 is 40 characters and no secret. */
export const MIN_SECRET_DISTINCT_CHARACTERS = 12;

/**
 * The one validated configuration of the product. Only this folder reads `process.env`.
 * Production settings (a PostgreSQL URL, MinIO credentials, an auth secret) switch the embedded
 * defaults (PGlite, filesystem store, the per-install secret under DATA_DIR) off. Outside production
 * the server listens on loopback unless HOST says otherwise.
 */
const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).optional(),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).max(120_000).default(10_000),
    HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(16).default(8192),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    EMBEDDED_DB_DIR: z.string().optional(),
    STORAGE_DRIVER: z.enum(['fs', 'minio']).default('fs'),
    STORAGE_FS_DIR: z.string().optional(),
    MINIO_ENDPOINT: z.string().url('must be a URL such as http://minio:9000').optional(),
    MINIO_ACCESS_KEY: z.string().min(1).optional(),
    MINIO_SECRET_KEY: z.string().min(1).optional(),
    MINIO_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
      .default('care-companion'),
    MINIO_REGION: z.string().default('us-east-1'),
    AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_ISSUER: z.string().default('care-companion'),
    AUTH_AUDIENCE: z.string().min(1).default(DEFAULT_AUTH_AUDIENCE),
    AUTH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(8 * 3600),
    AUTH_PRINCIPAL_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
    MODELS_DIR: z.string().default('./models'),
    MODEL_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
    CARE_SHARED_DIR: z.string().default('../shared'),
    MAX_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(200 * 1024 * 1024),
    MAX_IMAGE_PIXELS: z.coerce.number().int().min(1024).default(50_000_000),
    MAX_BASE64_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(2 * 1024 * 1024),
    UPLOAD_RETENTION_SECONDS: z.coerce.number().int().min(60).default(86_400),
    UPLOAD_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(10),
    GRAPHQL_MAX_COST: z.coerce.number().int().min(10).default(5000),
    GRAPHQL_PAGE_MAX: z.coerce.number().int().min(1).max(1000).default(100),
    GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).default(20),
    WS_MAX_SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(1).default(50),
    WS_SLOW_CONSUMER_BYTES: z.coerce
      .number()
      .int()
      .min(4096)
      .default(1024 * 1024),
    WS_AUTH_RECHECK_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
    SUBSCRIPTION_EXECUTION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    SUBSCRIPTION_QUEUE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    SUBSCRIPTION_AUDIT_FLUSH_MS: z.coerce.number().int().min(1).max(10_000).default(100),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    PUBSUB_DRIVER: z.enum(['postgres', 'memory']).optional(),
    EXECUTION_PROVIDERS: z
      .string()
      .regex(/^[a-z]+(,[a-z]+)*$/, 'must be a comma-separated list such as cuda,cpu')
      .default('cpu'),
    ENGINE_MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(256).default(16),
    ENGINE_MAX_QUEUE_DELAY_MS: z.coerce.number().min(0).max(1000).default(0),
    ENGINE_MAX_QUEUE_SIZE: z.coerce.number().int().min(1).default(2048),
    ENGINE_MAX_PREDICTED_WAIT_MS: z.coerce.number().int().min(1).default(10_000),
    ENGINE_INTRA_OP_THREADS: z.coerce.number().int().min(0).default(0),
    ENGINE_SESSION_THREAD: z.enum(['worker', 'main']).default('worker'),
    ENGINE_INSTANCES: z.coerce.number().int().min(1).max(64).optional(),
    DECODE_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
    ANALYSIS_WORKERS: z.coerce.number().int().min(0).max(64).default(2),
    ANALYSIS_DEADLINE_MS: z.coerce.number().int().min(100).default(30_000),
    ANALYSIS_JOB_EXPIRE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    JOB_MAINTENANCE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    SHADOW_MODE: z.enum(['true', 'false']).default('false'),
    HEATMAP_SIZE: z.coerce.number().int().min(64).max(1024).default(256),
    WRIST_SINGLE_VIEW: z.enum(['true', 'false']).default('false'),
    PACS_DICOMWEB_URL: z.string().url('must be a URL such as http://pacs:8042/dicom-web').optional(),
    PACS_USERNAME: z.string().min(1).optional(),
    PACS_PASSWORD: z.string().optional(),
    PACS_BEARER_TOKEN: z.string().min(1).optional(),
    PACS_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
    PACS_MAX_RETRIEVE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024 * 1024),
    STOW_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(512 * 1024 * 1024),
    STOW_MAX_INSTANCES: z.coerce.number().int().min(1).max(10_000).default(100),
    DICOM_UID_ROOT: z
      .string()
      .max(24, 'must be at most 24 characters (a UID has 64)')
      .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/, 'must be a DICOM UID root such as 2.25')
      .default('2.25'),
    DICOM_PATIENT_ID_ISSUER: z.string().max(64, 'must be at most 64 characters (DICOM LO)').optional(),
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    METRICS_OPEN: z.enum(['true', 'false']).default('false'),
    READY_REQUIRED_TASKS: z
      .string()
      .regex(/^([a-z]+(,[a-z]+)*)?$/, 'must be a comma-separated list of tasks such as chest,wrist')
      .default('chest,wrist'),
    HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
    NOTE_BACKEND: z.enum(['template', 'openai', 'llama-cpp']).default('template'),
    NOTE_OPENAI_BASE_URL: z
      .string()
      .url('must be a URL such as http://localhost:8000/v1')
      .regex(/^https?:\/\//, 'must be an http(s) URL')
      .optional(),
    NOTE_OPENAI_MODEL: z.string().min(1).optional(),
    NOTE_OPENAI_API_KEY: z.string().min(1).optional(),
    NOTE_OPENAI_STREAM: z.enum(['true', 'false']).default('true'),
    NOTE_GGUF_PATH: z.string().min(1).optional(),
    NOTE_LLAMA_GPU: z.enum(['false', 'auto', 'cuda', 'vulkan']).default('false'),
    NOTE_LLAMA_CONTEXT_SIZE: z.coerce.number().int().min(256).max(131072).default(4096),
    NOTE_LLAMA_THREADS: z.coerce.number().int().min(0).max(256).default(0),
    NOTE_MAX_TOKENS: z.coerce.number().int().min(16).max(4096).default(400),
    NOTE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
    NOTE_PATIENT_MAX_GRADE: z.coerce.number().min(1).max(18).default(8),
    NOTE_PATIENT_MIN_SZIGRISZT: z.coerce.number().min(0).max(100).default(55),
    DRIFT_ENABLED: z.enum(['true', 'false']).default('true'),
    DRIFT_WINDOW_SIZE: z.coerce.number().int().min(10).max(5000).default(100),
    DRIFT_TIME_WINDOW_MINUTES: z.coerce.number().min(0).default(60),
    DRIFT_MIN_WINDOW_SIZE: z.coerce.number().int().min(10).default(30),
    DRIFT_ALPHA: z.coerce.number().gt(0).lt(1).default(0.01),
    DRIFT_PSI_THRESHOLD: z.coerce.number().gt(0).default(0.25),
    DRIFT_PERMUTATIONS: z.coerce.number().int().min(19).max(10_000).default(500),
    DRIFT_SAMPLE_RETENTION_DAYS: z.coerce.number().gt(0).default(30),
    RETRAIN_RUNNER: z.enum(['local', 'ray']).default('local'),
    RAY_ADDRESS: z.string().url('must be the Ray dashboard URL such as http://ray-head:8265').optional(),
    RAY_PYTHON: z.string().min(1).default('python'),
    RETRAIN_AUTO_MIN_CORRECTIONS: z.coerce.number().int().min(0).default(500),
    RETRAIN_WORKERS: z.coerce.number().int().min(0).max(4).default(1),
    RETRAIN_WORK_DIR: z.string().optional(),
    RETRAIN_SMOKE: z.enum(['true', 'false']).default('false'),
    RETRAIN_EPOCHS: z.coerce.number().int().min(1).max(1000).default(40),
    RETRAIN_TIME_BUDGET_MIN: z.coerce.number().min(1).max(10_000).default(60),
    RETRAIN_BASE_FRACTION: z.coerce.number().gt(0).max(1).default(1),
    RETRAIN_JOB_EXPIRE_SECONDS: z.coerce
      .number()
      .int()
      .min(10)
      .default(6 * 3600),
    GATE_RECALL_MARGIN: z.coerce.number().min(0).max(1).default(0),
    GATE_AUROC_TOLERANCE: z.coerce.number().min(0).max(1).default(0.02),
    GATE_SPECIFICITY_TOLERANCE: z.coerce.number().min(0).max(1).default(0.05),
    SITE_VALIDATION_WORKERS: z.coerce.number().int().min(0).max(4).default(1),
    SITE_VALIDATION_RESAMPLES: z.coerce.number().int().min(100).max(100_000).default(1000),
    SITE_EVALUATION_EXPIRE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(3600),
  })
  .superRefine((env, ctx) => {
    const requiredBy: Record<string, (keyof typeof env)[]> = {
      openai: ['NOTE_OPENAI_BASE_URL', 'NOTE_OPENAI_MODEL'],
      'llama-cpp': ['NOTE_GGUF_PATH'],
    };
    for (const key of requiredBy[env.NOTE_BACKEND] ?? []) {
      if (!env[key])
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key],
          message: `is required when NOTE_BACKEND=${env.NOTE_BACKEND}`,
        });
    }
    if (
      env.ENGINE_INSTANCES !== undefined &&
      env.ENGINE_INSTANCES > 1 &&
      env.ENGINE_SESSION_THREAD === 'main'
    )
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['ENGINE_INSTANCES'],
        message: 'above 1 needs ENGINE_SESSION_THREAD=worker (sessions on the event loop run one at a time)',
      });
    if (env.RETRAIN_RUNNER === 'ray' && !env.RAY_ADDRESS)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['RAY_ADDRESS'],
        message: 'is required when RETRAIN_RUNNER=ray',
      });
    if (env.STORAGE_DRIVER === 'minio') {
      for (const key of ['MINIO_ENDPOINT', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY'] as const) {
        if (!env[key])
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [key],
            message: 'is required when STORAGE_DRIVER=minio',
          });
      }
    }
    if (env.NODE_ENV === 'production') {
      if (!env.DATABASE_URL)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['DATABASE_URL'],
          message: 'is required in production',
        });
      if (!env.AUTH_SECRET)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['AUTH_SECRET'],
          message: 'is required in production',
        });
      else if (new Set(env.AUTH_SECRET).size < MIN_SECRET_DISTINCT_CHARACTERS)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['AUTH_SECRET'],
          message: `is too weak for production (use a random value with at least ${MIN_SECRET_DISTINCT_CHARACTERS} distinct characters, e.g. openssl rand -base64 48)`,
        });
      if (!env.METRICS_TOKEN && env.METRICS_OPEN !== 'true')
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['METRICS_TOKEN'],
          message:
            'is required in production (or set METRICS_OPEN=true where only the private network reaches /metrics)',
        });
    }
  });

/** Typed, validated configuration handed to the composition root. */
export interface AppConfig {
  env: 'development' | 'test' | 'production';
  http: {
    /** Interface to listen on: loopback by default, every interface (`0.0.0.0`) by default in production. */
    host: string;
    port: number;
    /** A connection that has not sent complete request headers by then is closed (slow-header attacks). */
    headersTimeoutMs: number;
    /** Open connections (HTTP and WebSocket) beyond which new ones are refused. */
    maxConnections: number;
  };
  /**
   * Folder of the install's own state: the embedded database and object store by default, the
   * per-install signing secret (`auth-secret`) and the first admin's token.
   */
  dataDir: string;
  database: { url: string | null; poolMax: number; embeddedDir: string };
  storage:
    | { driver: 'fs'; dir: string }
    | {
        driver: 'minio';
        endpoint: string;
        accessKey: string;
        secretKey: string;
        bucket: string;
        region: string;
      };
  auth: {
    /**
     * AUTH_SECRET; null outside production when it is not set: tokens are then signed with the random
     * per-install secret kept at `secretFile` (created on first use, see `auth/install-secret.ts`).
     */
    secret: string | null;
    /** Where the per-install secret lives: `<DATA_DIR>/auth-secret`. */
    secretFile: string;
    issuer: string;
    /** The `aud` claim minted into tokens and required of every token presented. */
    audience: string;
    tokenTtlSeconds: number;
    /** How long an authenticated user's role and status are reused before the database is asked again. */
    principalCacheMs: number;
  };
  modelsDir: string;
  /** How often each process re-reads the registry besides its events (ms); 0 only on events. */
  modelReconcileIntervalMs: number;
  sharedDir: string;
  limits: {
    maxUploadBytes: number;
    maxImagePixels: number;
    maxBase64UploadBytes: number;
    /** Uploads never attached are removed (row and object) once older than this, in seconds. */
    uploadRetentionSeconds: number;
    /** How often each process sweeps uploads never attached, in seconds (0: never). */
    uploadSweepIntervalSeconds: number;
    graphqlMaxDepth: number;
    graphqlMaxCost: number;
    pageMax: number;
    /** Most lexical tokens in one GraphQL document; the parser stops beyond it. */
    graphqlMaxTokens: number;
    /** Rate budget per token per minute, in operation cost units (one per root field, at least one per request). */
    rateLimitPerMinute: number;
    /** Live subscriptions one WebSocket may hold. */
    subscriptionsPerSocket: number;
    /** Live subscriptions one user may hold across sockets (per process). */
    subscriptionsPerUser: number;
  };
  /** Subscription delivery (fan-out) over WebSocket. */
  subscriptions: {
    /**
     * Bytes that may wait to be sent to one socket; a socket with more is closed with 4008 (slow
     * consumer) and its events dropped.
     */
    slowConsumerBytes: number;
    /** How often each open socket's user is re-checked besides on changes (ms): a backstop. */
    authRecheckMs: number;
    /** Events executed at once (each uses the shared database pool for its reads). */
    executionConcurrency: number;
    /** Events received and not yet delivered beyond which new events are dropped (and counted). */
    maxQueuedEvents: number;
    /** How long the audit rows of deliveries wait to be written in one INSERT (ms). */
    auditFlushMs: number;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  pubsubDriver: 'postgres' | 'memory';
  inference: {
    executionProviders: string[];
    maxBatchSize: number;
    maxQueueDelayMs: number;
    maxQueueSize: number;
    maxPredictedWaitMs: number;
    /** 0 lets the runtime choose. */
    intraOpThreads: number;
    /**
     * Where sessions run: `worker` (one worker thread per loaded model, so a batch never blocks the
     * event loop) or `main` (on the event loop, as onnxruntime-node does by itself).
     */
    sessionThread: 'worker' | 'main';
    /**
     * Model instances per version that run batches side by side under load, each with its share of
     * the cores (a batch that runs alone uses one session with every thread). Default: 2 on a machine
     * with two or more cores when sessions run on worker threads, else 1.
     */
    instances: number;
    /** Decode worker threads; 0 decodes on the event loop; default one per CPU. */
    decodeWorkers: number | null;
  };
  analysis: {
    workers: number;
    deadlineMs: number;
    shadowMode: boolean;
    heatmapSize: number;
    /**
     * The department reads wrist studies that have only a PA or only a LATERAL view (with a model that
     * reads views one at a time); the reading names the missing view. False: WRIST_VIEWS_REQUIRED.
     */
    wristSingleView: boolean;
    /**
     * How long one batch item may stay taken before it is handed to another worker: the bound on how
     * long a study of a crashed process waits. Must exceed the slowest single analysis.
     */
    jobExpireSeconds: number;
  };
  /** How often the job queue looks for expired items (any one process does it per interval). */
  jobs: { maintenanceIntervalSeconds: number };
  /** DICOMweb PACS for ingestion and result export (null: none configured; STOW-RS still accepted). */
  pacs: {
    baseUrl: string;
    username: string | null;
    password: string | null;
    bearerToken: string | null;
    timeoutMs: number;
    maxResponseBytes: number;
  } | null;
  dicom: {
    uidRoot: string;
    /**
     * Issuer of Patient ID (0010,0021) of this hospital's MRNs: a DICOM file naming another issuer is
     * refused at attach (PATIENT_ID_ISSUER_MISMATCH) unless accepted explicitly. Null: not checked.
     */
    patientIdIssuer: string | null;
    stowMaxBytes: number;
    /** Most instances (body parts) in one STOW-RS request. */
    stowMaxInstances: number;
  };
  monitoring: {
    /**
     * Bearer token `GET /metrics` requires; null leaves it open, which production allows only with
     * METRICS_OPEN=true (the network must then keep it private).
     */
    metricsToken: string | null;
    /** Tasks that need an active model version for `/health/ready` to answer 200. */
    readyRequiredTasks: string[];
    /** Longest wait for one readiness check (database, object store) and for scrape-time reads. */
    healthCheckTimeoutMs: number;
  };
  notes: {
    /** Which backend drafts notes; `template` needs no model and no network. */
    backend:
      | { kind: 'template' }
      | { kind: 'openai'; baseUrl: string; model: string; apiKey: string | null; stream: boolean }
      | {
          kind: 'llama-cpp';
          modelPath: string;
          gpu: false | 'auto' | 'cuda' | 'vulkan';
          contextSize: number;
          /** CPU threads per generation; 0 lets node-llama-cpp choose. */
          threads: number;
        };
    maxTokens: number;
    timeoutMs: number;
    /** Readability targets of patient notes: FK grade (en) at most, Szigriszt-Pazos (es) at least. */
    readability: { maxGrade: number; minSzigriszt: number };
  };
  drift: {
    enabled: boolean;
    /** Count windows: every this many accepted predictions of a model version are compared. */
    windowSize: number;
    /** Time windows: the predictions of each period are compared (0 turns time windows off). */
    timeWindowMinutes: number;
    /** A time window with fewer accepted predictions is not tested. */
    minWindowSize: number;
    /** Family-wise false-alarm level of the p-value tests (Bonferroni-shared). */
    alpha: number;
    psiThreshold: number;
    permutations: number;
    /** Drift samples older than this are deleted (checks and alerts are kept). */
    sampleRetentionDays: number;
  };
  retraining: {
    runner: 'local' | 'ray';
    rayAddress: string | null;
    rayPython: string;
    /** New corrections of a task that start a run by themselves; 0 switches the trigger off. */
    autoMinCorrections: number;
    workers: number;
    workDir: string;
    smoke: boolean;
    epochs: number;
    timeBudgetMin: number;
    baseFraction: number;
    jobExpireSeconds: number;
    gate: { recallMargin: number; aurocTolerance: number; specificityTolerance: number };
  };
  siteValidation: {
    /** Site evaluations this process runs at a time (0: it takes none). */
    workers: number;
    /** Bootstrap resamples behind each interval of a site evaluation. */
    resamples: number;
    /** How long an evaluation may stay taken before another process retries it. */
    jobExpireSeconds: number;
  };
}

/** Raised when the environment is invalid; names variables and rules, never values. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates an environment (default: `process.env`) into an {@link AppConfig}. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const e = parsed.data;
  const dataDir = e.DATA_DIR.replace(/\/+$/, '') || '/';
  const inData = (name: string) => `${dataDir}/${name}`;
  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST ?? (e.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
      port: e.PORT,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
    },
    dataDir,
    database: {
      url: e.DATABASE_URL ?? null,
      poolMax: e.DATABASE_POOL_MAX,
      embeddedDir: e.EMBEDDED_DB_DIR ?? inData('pglite'),
    },
    storage:
      e.STORAGE_DRIVER === 'minio'
        ? {
            driver: 'minio',
            endpoint: e.MINIO_ENDPOINT!,
            accessKey: e.MINIO_ACCESS_KEY!,
            secretKey: e.MINIO_SECRET_KEY!,
            bucket: e.MINIO_BUCKET,
            region: e.MINIO_REGION,
          }
        : { driver: 'fs', dir: e.STORAGE_FS_DIR ?? inData('objects') },
    auth: {
      secret: e.AUTH_SECRET ?? null,
      secretFile: inData('auth-secret'),
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      tokenTtlSeconds: e.AUTH_TOKEN_TTL_SECONDS,
      principalCacheMs: e.AUTH_PRINCIPAL_CACHE_MS,
    },
    modelsDir: e.MODELS_DIR,
    modelReconcileIntervalMs: e.MODEL_RECONCILE_INTERVAL_MS,
    sharedDir: e.CARE_SHARED_DIR,
    limits: {
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      maxImagePixels: e.MAX_IMAGE_PIXELS,
      maxBase64UploadBytes: e.MAX_BASE64_UPLOAD_BYTES,
      uploadRetentionSeconds: e.UPLOAD_RETENTION_SECONDS,
      uploadSweepIntervalSeconds: e.UPLOAD_SWEEP_INTERVAL_SECONDS,
      graphqlMaxDepth: e.GRAPHQL_MAX_DEPTH,
      graphqlMaxCost: e.GRAPHQL_MAX_COST,
      pageMax: e.GRAPHQL_PAGE_MAX,
      graphqlMaxTokens: e.GRAPHQL_MAX_TOKENS,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      subscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      subscriptionsPerUser: e.WS_MAX_SUBSCRIPTIONS_PER_USER,
    },
    subscriptions: {
      slowConsumerBytes: e.WS_SLOW_CONSUMER_BYTES,
      authRecheckMs: e.WS_AUTH_RECHECK_MS,
      executionConcurrency: e.SUBSCRIPTION_EXECUTION_CONCURRENCY,
      maxQueuedEvents: e.SUBSCRIPTION_QUEUE_MAX,
      auditFlushMs: e.SUBSCRIPTION_AUDIT_FLUSH_MS,
    },
    logLevel: e.LOG_LEVEL,
    pubsubDriver: e.PUBSUB_DRIVER ?? (e.DATABASE_URL ? 'postgres' : 'memory'),
    inference: {
      executionProviders: e.EXECUTION_PROVIDERS.split(','),
      maxBatchSize: e.ENGINE_MAX_BATCH_SIZE,
      maxQueueDelayMs: e.ENGINE_MAX_QUEUE_DELAY_MS,
      maxQueueSize: e.ENGINE_MAX_QUEUE_SIZE,
      maxPredictedWaitMs: e.ENGINE_MAX_PREDICTED_WAIT_MS,
      intraOpThreads: e.ENGINE_INTRA_OP_THREADS,
      sessionThread: e.ENGINE_SESSION_THREAD,
      instances:
        e.ENGINE_INSTANCES ??
        (e.ENGINE_SESSION_THREAD === 'worker' ? Math.min(2, availableParallelism()) : 1),
      decodeWorkers: e.DECODE_WORKERS ?? null,
    },
    analysis: {
      workers: e.ANALYSIS_WORKERS,
      deadlineMs: e.ANALYSIS_DEADLINE_MS,
      shadowMode: e.SHADOW_MODE === 'true',
      heatmapSize: e.HEATMAP_SIZE,
      wristSingleView: e.WRIST_SINGLE_VIEW === 'true',
      jobExpireSeconds: e.ANALYSIS_JOB_EXPIRE_SECONDS,
    },
    pacs: e.PACS_DICOMWEB_URL
      ? {
          baseUrl: e.PACS_DICOMWEB_URL,
          username: e.PACS_USERNAME ?? null,
          password: e.PACS_PASSWORD ?? null,
          bearerToken: e.PACS_BEARER_TOKEN ?? null,
          timeoutMs: e.PACS_TIMEOUT_MS,
          maxResponseBytes: e.PACS_MAX_RETRIEVE_BYTES,
        }
      : null,
    dicom: {
      uidRoot: e.DICOM_UID_ROOT,
      patientIdIssuer: e.DICOM_PATIENT_ID_ISSUER || null,
      stowMaxBytes: e.STOW_MAX_BYTES,
      stowMaxInstances: e.STOW_MAX_INSTANCES,
    },
    monitoring: {
      metricsToken: e.METRICS_TOKEN ?? null,
      readyRequiredTasks: e.READY_REQUIRED_TASKS ? e.READY_REQUIRED_TASKS.split(',') : [],
      healthCheckTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
    },
    notes: {
      backend:
        e.NOTE_BACKEND === 'openai'
          ? {
              kind: 'openai',
              baseUrl: e.NOTE_OPENAI_BASE_URL!,
              model: e.NOTE_OPENAI_MODEL!,
              apiKey: e.NOTE_OPENAI_API_KEY ?? null,
              stream: e.NOTE_OPENAI_STREAM === 'true',
            }
          : e.NOTE_BACKEND === 'llama-cpp'
            ? {
                kind: 'llama-cpp',
                modelPath: e.NOTE_GGUF_PATH!,
                gpu: e.NOTE_LLAMA_GPU === 'false' ? false : e.NOTE_LLAMA_GPU,
                contextSize: e.NOTE_LLAMA_CONTEXT_SIZE,
                threads: e.NOTE_LLAMA_THREADS,
              }
            : { kind: 'template' },
      maxTokens: e.NOTE_MAX_TOKENS,
      timeoutMs: e.NOTE_TIMEOUT_MS,
      readability: { maxGrade: e.NOTE_PATIENT_MAX_GRADE, minSzigriszt: e.NOTE_PATIENT_MIN_SZIGRISZT },
    },
    jobs: { maintenanceIntervalSeconds: e.JOB_MAINTENANCE_INTERVAL_SECONDS },
    drift: {
      enabled: e.DRIFT_ENABLED === 'true',
      windowSize: e.DRIFT_WINDOW_SIZE,
      timeWindowMinutes: e.DRIFT_TIME_WINDOW_MINUTES,
      minWindowSize: e.DRIFT_MIN_WINDOW_SIZE,
      alpha: e.DRIFT_ALPHA,
      psiThreshold: e.DRIFT_PSI_THRESHOLD,
      permutations: e.DRIFT_PERMUTATIONS,
      sampleRetentionDays: e.DRIFT_SAMPLE_RETENTION_DAYS,
    },
    retraining: {
      runner: e.RETRAIN_RUNNER,
      rayAddress: e.RAY_ADDRESS ?? null,
      rayPython: e.RAY_PYTHON,
      autoMinCorrections: e.RETRAIN_AUTO_MIN_CORRECTIONS,
      workers: e.RETRAIN_WORKERS,
      workDir: e.RETRAIN_WORK_DIR ?? inData('retraining'),
      smoke: e.RETRAIN_SMOKE === 'true',
      epochs: e.RETRAIN_EPOCHS,
      timeBudgetMin: e.RETRAIN_TIME_BUDGET_MIN,
      baseFraction: e.RETRAIN_BASE_FRACTION,
      jobExpireSeconds: e.RETRAIN_JOB_EXPIRE_SECONDS,
      gate: {
        recallMargin: e.GATE_RECALL_MARGIN,
        aurocTolerance: e.GATE_AUROC_TOLERANCE,
        specificityTolerance: e.GATE_SPECIFICITY_TOLERANCE,
      },
    },
    siteValidation: {
      workers: e.SITE_VALIDATION_WORKERS,
      resamples: e.SITE_VALIDATION_RESAMPLES,
      jobExpireSeconds: e.SITE_EVALUATION_EXPIRE_SECONDS,
    },
  };
}

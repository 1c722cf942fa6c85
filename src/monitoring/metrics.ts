import { collectDefaultMetrics, Counter, Gauge, Histogram, Metric, Registry, Summary } from 'prom-client';
import type { AnalysisObserver, PredictionEvent } from '../domain/analysis/analysis.service';
import type { GraphQLObserver, GraphQLOperationEvent } from '../http/graphql-server';
import type { HttpObserver, HttpRequestEvent } from '../http/http-server';
import type {
  InferenceBatchEvent,
  InferenceObserver,
  InferenceRequestEvent,
  ModelHealth,
} from '../inference/inference-engine';
import { PRIORITY_ORDER } from '../inference/batching/dynamic-batcher';
import { threadCpu, type ThreadCpu } from '../shared/thread-cpu';

/** Prefix of every metric this process exports. */
const METRIC_PREFIX = 'care_companion_';

/** Latency buckets (seconds) of request-level histograms. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Batch-size buckets: powers of two up to the largest batch ENGINE_MAX_BATCH_SIZE allows. */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * State of batch work: `queues` holds, per durable queue, its jobs per pg-boss state (created, retry,
 * active, completed, cancelled, failed); `jobs` the analysis submissions per status.
 */
export interface JobState {
  queues: Record<string, Record<string, number>>;
  jobs: Record<string, number>;
}

/** Where the job-queue gauges are read from at scrape time. */
export interface JobStateSource {
  queueState(): Promise<JobState>;
}

/** Keeps a label value short and in a fixed alphabet (no free text reaches Prometheus). */
function bounded(value: string | null | undefined, fallback = 'none'): string {
  if (!value) return fallback;
  const clean = value.replace(/[^A-Za-z0-9_.:,/ -]/g, '_').slice(0, 64);
  return clean || fallback;
}

const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** Rejects after `ms` unless `promise` settles first. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Latency of HTTP requests and of GraphQL operations. */
function requestSeries(registers: Registry[]) {
  return {
    httpDuration: new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request latency by method, route (a fixed name, never the raw path) and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    graphqlDuration: new Histogram({
      name: `${METRIC_PREFIX}graphql_operation_duration_seconds`,
      help: 'GraphQL-over-HTTP operation latency by operation type and top-level field(s); outcome ok or error.',
      labelNames: ['operation_type', 'operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  };
}

/** Inference requests and batches, and committed predictions. */
function inferenceSeries(registers: Registry[]) {
  const p = METRIC_PREFIX;
  const byVersion = ['task', 'model_version'] as const;
  return {
    inferenceRequests: new Counter({
      name: `${p}inference_requests_total`,
      help: 'Inference requests that left the engine, by task, model version and outcome (ok or the error code).',
      labelNames: [...byVersion, 'outcome'] as const,
      registers,
    }),
    inferenceDuration: new Histogram({
      name: `${p}inference_duration_seconds`,
      help: 'Model run time seen by each served request (the duration of the batch it ran in).',
      labelNames: byVersion,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueWait: new Histogram({
      name: `${p}inference_queue_wait_seconds`,
      help: 'Time each served request waited in the engine queue before its batch started.',
      labelNames: byVersion,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchSize: new Histogram({
      name: `${p}inference_batch_size`,
      help: 'Items per session run (dynamic batching), one observation per batch.',
      labelNames: byVersion,
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    batchDuration: new Histogram({
      name: `${p}inference_batch_duration_seconds`,
      help: 'Wall time of each session run, by outcome (ok or failed).',
      labelNames: [...byVersion, 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    predictions: new Counter({
      name: `${p}predictions_total`,
      help: 'Committed predictions by task, model version, route (PRODUCTION, CANARY, SHADOW), top label and gate verdict.',
      labelNames: [...byVersion, 'route', 'label', 'gate_verdict'] as const,
      registers,
    }),
    analysisDuration: new Histogram({
      name: `${p}analysis_duration_seconds`,
      help: 'Time from the start of a study analysis to its stored reading (fetch, decode, queue, inference, heatmap).',
      labelNames: [...byVersion, 'route'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  };
}

/**
 * CPU seconds of this process's threads by role (`src/shared/thread-cpu.ts`; Linux only, no series
 * elsewhere), counted per thread so a worker that ends takes nothing back: where the process's CPU goes
 * (the event loop, the decode workers, the model sessions, the drift worker, V8 and libuv).
 */
export function threadCpuCounter(registers: Registry[], read: () => ThreadCpu[] = () => threadCpu()) {
  const seen = new Map<string, number>();
  return new Counter({
    name: `${METRIC_PREFIX}thread_cpu_seconds_total`,
    help: "User + system CPU of this process's threads by role: event-loop, decode (decode workers), engine (model sessions and their onnxruntime threads), drift (the drift test worker), runtime (V8's garbage collector and compiler threads, libuv's pool). Linux only.",
    labelNames: ['role'] as const,
    registers,
    collect() {
      const live = new Set<string>();
      for (const t of read()) {
        live.add(t.tid);
        const delta = t.seconds - (seen.get(t.tid) ?? 0);
        if (delta > 0) this.inc({ role: t.role }, delta);
        seen.set(t.tid, Math.max(t.seconds, seen.get(t.tid) ?? 0));
      }
      for (const tid of seen.keys()) if (!live.has(tid)) seen.delete(tid);
    },
  });
}

/** Gauges read from the engine at every scrape: queue depths, requests in flight, loaded models. */
function engineGauges(registers: Registry[], models: () => ModelHealth[]) {
  const p = METRIC_PREFIX;
  const version = (m: ModelHealth) => ({ task: bounded(m.task), model_version: bounded(m.version) });
  return {
    queueDepth: new Gauge({
      name: `${p}inference_queue_depth`,
      help: 'Requests waiting in the engine queue, per loaded model version and priority lane.',
      labelNames: ['task', 'model_version', 'priority'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of models())
          for (const priority of PRIORITY_ORDER)
            this.set({ ...version(m), priority }, m.queueDepthByPriority[priority] ?? 0);
      },
    }),
    inFlight: new Gauge({
      name: `${p}inference_in_flight`,
      help: 'Requests admitted and not yet settled (waiting or running), per loaded model version.',
      labelNames: ['task', 'model_version'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of models()) this.set(version(m), m.inFlight);
      },
    }),
    modelLoaded: new Gauge({
      name: `${p}model_loaded`,
      help: '1 per loaded model version, labelled with the execution provider it really runs on, the precision of the graph that runs (ENGINE_PRECISION) and whether it is the active (default) version.',
      labelNames: ['task', 'model_version', 'execution_provider', 'precision', 'active'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of models())
          this.set(
            {
              ...version(m),
              execution_provider: bounded(m.provider),
              precision: m.precision,
              active: String(m.active),
            },
            1,
          );
      },
    }),
  };
}

/** Gauges of the job queue (read at scrape time), open WebSockets, and failed scrape-time reads. */
function stateGauges(
  registers: Registry[],
  jobs: { readJobs(): Promise<JobState | null>; jobsRead(): Promise<unknown> | null },
) {
  const p = METRIC_PREFIX;
  return {
    jobQueue: new Gauge({
      name: `${p}job_queue_jobs`,
      help: 'Durable jobs per queue and pg-boss state (created, retry, active, completed, cancelled, failed).',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        const state = await jobs.readJobs();
        for (const [queue, states] of Object.entries(state?.queues ?? {}))
          for (const [s, n] of Object.entries(states))
            this.set({ queue: bounded(queue), state: bounded(s) }, n);
      },
    }),
    analysisJobs: new Gauge({
      name: `${p}analysis_jobs`,
      help: 'Batch analysis submissions per status.',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        this.reset();
        const state = await jobs.readJobs();
        for (const [status, n] of Object.entries(state?.jobs ?? {})) this.set({ status: bounded(status) }, n);
      },
    }),
    webSockets: new Gauge({
      name: `${p}websocket_connections`,
      help: 'Open WebSocket (graphql-ws subscription) connections to this process.',
      registers,
    }),
    scrapeErrors: new Counter({
      name: `${p}metrics_collect_errors_total`,
      help: 'Scrapes during which a state source (e.g. the job queue in PostgreSQL) could not be read.',
      labelNames: ['source'] as const,
      registers,
      // Collected in the same scrape as the job gauges: wait for their read so this scrape counts its failure.
      async collect() {
        await jobs.jobsRead();
      },
    }),
  };
}

/**
 * The process's Prometheus registry and the product's core metric set. One instance per app, built in
 * the composition root. The engine, the analysis service and the HTTP/GraphQL servers report through
 * the small observer ports they define (`inference`, `analysis`, `http`, `graphql` below), so none of
 * them imports prom-client; gauges of state (loaded models, queue depths, job queue) are read at
 * scrape time. Other features register their own collectors on `registry`. Labels hold only bounded
 * values (task, model version, route, label, verdict, status, top-level GraphQL field names), never
 * ids or PHI.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly graphqlDuration: Histogram<'operation_type' | 'operation' | 'outcome'>;
  private readonly inferenceRequests: Counter<'task' | 'model_version' | 'outcome'>;
  private readonly inferenceDuration: Histogram<'task' | 'model_version'>;
  private readonly queueWait: Histogram<'task' | 'model_version'>;
  private readonly batchSize: Histogram<'task' | 'model_version'>;
  private readonly batchDuration: Histogram<'task' | 'model_version' | 'outcome'>;
  private readonly predictions: Counter<'task' | 'model_version' | 'route' | 'label' | 'gate_verdict'>;
  private readonly analysisDuration: Histogram<'task' | 'model_version' | 'route'>;
  private readonly queueDepth: Gauge<'task' | 'model_version' | 'priority'>;
  private readonly inFlight: Gauge<'task' | 'model_version'>;
  private readonly modelLoaded: Gauge<'task' | 'model_version' | 'execution_provider' | 'active'>;
  private readonly jobQueue: Gauge<'queue' | 'state'>;
  private readonly analysisJobs: Gauge<'status'>;
  private readonly scrapeErrors: Counter<'source'>;
  private readonly webSockets: Gauge;
  private engine: { health(): ModelHealth[] } | null = null;
  private jobs: { source: JobStateSource; timeoutMs: number } | null = null;
  private jobsRead: Promise<JobState | null> | null = null;

  /** Port of the HTTP server: one observation per finished request. */
  readonly http: HttpObserver = {
    webSocketOpened: () => this.webSockets.inc(),
    webSocketClosed: () => this.webSockets.dec(),
    requestFinished: (e: HttpRequestEvent) =>
      this.httpDuration.observe(
        {
          method: HTTP_METHODS.has(e.method) ? e.method : 'OTHER',
          route: bounded(e.route),
          status: String(e.status),
        },
        e.durationMs / 1000,
      ),
  };
  /** Port of the GraphQL handler: one observation per operation over HTTP. */
  readonly graphql: GraphQLObserver = {
    operationFinished: (e: GraphQLOperationEvent) =>
      this.graphqlDuration.observe(
        { operation_type: bounded(e.type), operation: bounded(e.operation), outcome: e.outcome },
        e.durationMs / 1000,
      ),
  };
  /** Port of the inference engine: requests and batches. */
  readonly inference: InferenceObserver = {
    requestFinished: (e: InferenceRequestEvent) => {
      const labels = { task: bounded(e.task), model_version: bounded(e.version) };
      this.inferenceRequests.inc({ ...labels, outcome: bounded(e.outcome) });
      if (e.timings) {
        this.inferenceDuration.observe(labels, e.timings.inferenceMs / 1000);
        this.queueWait.observe(labels, e.timings.queueMs / 1000);
      }
    },
    batchFinished: (e: InferenceBatchEvent) => {
      const labels = { task: bounded(e.task), model_version: bounded(e.version) };
      this.batchSize.observe(labels, e.size);
      this.batchDuration.observe({ ...labels, outcome: e.ok ? 'ok' : 'failed' }, e.durationMs / 1000);
    },
  };
  /** Port of the analysis service: committed predictions. */
  readonly analysis: AnalysisObserver = {
    predictionRecorded: (e: PredictionEvent) => {
      const labels = { task: bounded(e.task), model_version: bounded(e.version), route: bounded(e.route) };
      this.predictions.inc({ ...labels, label: bounded(e.label), gate_verdict: bounded(e.gateVerdict) });
      this.analysisDuration.observe(labels, e.totalMs / 1000);
    },
  };

  /**
   * @param defaultLabels - labels added to every series
   * @param options.collectTimeoutMs - longest a metric's scrape-time read may take before the scrape
   *   goes on without it
   */
  constructor(defaultLabels: Record<string, string> = {}, options: { collectTimeoutMs?: number } = {}) {
    this.guardCollectors(options.collectTimeoutMs ?? 2000);
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    const registers = [this.registry];
    threadCpuCounter(registers);
    ({ httpDuration: this.httpDuration, graphqlDuration: this.graphqlDuration } = requestSeries(registers));
    ({
      inferenceRequests: this.inferenceRequests,
      inferenceDuration: this.inferenceDuration,
      queueWait: this.queueWait,
      batchSize: this.batchSize,
      batchDuration: this.batchDuration,
      predictions: this.predictions,
      analysisDuration: this.analysisDuration,
    } = inferenceSeries(registers));
    ({
      queueDepth: this.queueDepth,
      inFlight: this.inFlight,
      modelLoaded: this.modelLoaded,
    } = engineGauges(registers, () => this.engine?.health() ?? []));
    ({
      jobQueue: this.jobQueue,
      analysisJobs: this.analysisJobs,
      webSockets: this.webSockets,
      scrapeErrors: this.scrapeErrors,
    } = stateGauges(registers, {
      readJobs: () => this.readJobs(),
      jobsRead: () => this.jobsRead,
    }));
  }

  /**
   * Wraps every metric registered on `registry` (ours and other features') so that one whose
   * scrape-time read fails or hangs is exported empty and counted in `metrics_collect_errors_total`
   * (source = its name), instead of failing or hanging the whole scrape: /metrics must keep answering
   * while the database is down, since that is when it matters.
   */
  private guardCollectors(timeoutMs: number): void {
    const registry = this.registry;
    const register = registry.registerMetric.bind(registry);
    registry.registerMetric = (metric: Metric) => {
      const type =
        metric instanceof Counter
          ? 'counter'
          : metric instanceof Histogram
            ? 'histogram'
            : metric instanceof Summary
              ? 'summary'
              : 'gauge';
      const { name, help } = metric as unknown as { name: string; help: string };
      const guarded = metric as unknown as Record<string, () => Promise<unknown>>;
      // The registry reads histograms through getForPromString, everything else through get.
      for (const method of ['get', 'getForPromString']) {
        if (typeof guarded[method] !== 'function') continue;
        const read = guarded[method].bind(metric);
        guarded[method] = () =>
          withTimeout(read(), timeoutMs).catch(() => {
            this.scrapeErrors?.inc({ source: bounded(name) });
            return { name, help, type, values: [], aggregator: 'sum' };
          });
      }
      register(metric);
    };
  }

  /** Reads loaded models, their providers and queue depths from `engine` at every scrape. */
  watchEngine(engine: { health(): ModelHealth[] }): void {
    this.engine = engine;
  }

  /**
   * Reads the job queue state from `source` at every scrape, giving up after `timeoutMs` (an
   * unreachable database must not hang the scrape: the gauges are then absent and
   * `metrics_collect_errors_total{source="jobs"}` goes up).
   */
  watchJobs(source: JobStateSource, timeoutMs = 2000): void {
    this.jobs = { source, timeoutMs };
  }

  /**
   * One read of the job state per scrape: prom-client collects the metrics of a scrape concurrently,
   * so both job gauges share the read in flight.
   */
  private readJobs(): Promise<JobState | null> {
    if (!this.jobs) return Promise.resolve(null);
    const { source, timeoutMs } = this.jobs;
    this.jobsRead ??= withTimeout(source.queueState(), timeoutMs)
      .catch(() => {
        this.scrapeErrors.inc({ source: 'jobs' });
        return null;
      })
      .finally(() => {
        this.jobsRead = null;
      });
    return this.jobsRead;
  }

  /** The exposition text Prometheus scrapes. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

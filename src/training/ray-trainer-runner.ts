import { setTimeout as sleep } from 'node:timers/promises';
import { TrainerJob, TrainerRunner, trainerArgs } from './trainer-runner';

/** Terminal states of a Ray job (ray.job_submission.JobStatus). */
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

/** Options of {@link RayTrainerRunner}. */
export interface RayRunnerOptions {
  /** Ray dashboard / job server URL, e.g. http://ray-head:8265. */
  address: string;
  /** Python command on the cluster (with torch). */
  python: string;
  /** Poll interval of the job status, ms. */
  pollMs?: number;
  /** CPUs reserved for the entrypoint. */
  numCpus?: number;
  fetch?: typeof fetch;
}

/** The Ray job server refused or failed a request. */
export class RayJobError extends Error {}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the same trainer as {@link LocalTrainerRunner} as a Ray job, through the Jobs REST API of the
 * cluster's dashboard: `POST /api/jobs/` (entrypoint, submission_id, runtime_env, metadata),
 * `GET /api/jobs/{id}` until SUCCEEDED / FAILED / STOPPED, then `GET /api/jobs/{id}/logs`.
 *
 * The submission id is derived from the training run, so a server that crashed and retries the run
 * finds the job it already submitted (the server answers that the id exists) and follows it instead
 * of training twice. The cluster must see the repository and the run's work folder at the same
 * paths (a shared volume); the entrypoint passes absolute paths only.
 */
export class RayTrainerRunner implements TrainerRunner {
  readonly name = 'ray';
  private readonly fetch: typeof fetch;

  constructor(private readonly options: RayRunnerOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  /** Submission id of a job (stable per run). */
  static submissionId(job: TrainerJob): string {
    return `care-companion-${job.runId ?? job.version}`.replace(/[^A-Za-z0-9_-]/g, '-');
  }

  async run(job: TrainerJob, onLine: (line: string) => void = () => undefined): Promise<void> {
    const base = this.options.address.replace(/\/+$/, '');
    const id = RayTrainerRunner.submissionId(job);
    const entrypoint = [this.options.python, ...trainerArgs(job)].map(shellQuote).join(' ');
    const submit = await this.fetch(`${base}/api/jobs/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        entrypoint,
        submission_id: id,
        runtime_env: { env_vars: { PYTHONUNBUFFERED: '1', ...(job.env ?? {}) } },
        metadata: {
          app: 'care-companion',
          task: job.task,
          version: job.version,
          ...(job.runId ? { run: job.runId } : {}),
        },
        entrypoint_num_cpus: this.options.numCpus ?? 2,
      }),
    });
    if (!submit.ok) {
      const text = await submit.text();
      const exists = /already exists/i.test(text);
      if (!exists)
        throw new RayJobError(`Ray job submission failed (${submit.status}): ${text.slice(0, 500)}`);
      onLine(`ray: job ${id} was already submitted; following it`);
    } else {
      const body = (await submit.json()) as { submission_id?: string; job_id?: string };
      onLine(`ray: submitted ${body.submission_id ?? id}`);
    }
    let status = 'PENDING';
    let message = '';
    for (;;) {
      const res = await this.fetch(`${base}/api/jobs/${encodeURIComponent(id)}`);
      if (!res.ok)
        throw new RayJobError(`Ray job status failed (${res.status}): ${(await res.text()).slice(0, 500)}`);
      const info = (await res.json()) as { status: string; message?: string | null };
      if (info.status !== status) onLine(`ray: ${id} ${info.status}`);
      status = info.status;
      message = info.message ?? '';
      if (TERMINAL.has(status)) break;
      await sleep(this.options.pollMs ?? 2000);
    }
    const logsRes = await this.fetch(`${base}/api/jobs/${encodeURIComponent(id)}/logs`);
    const logs = logsRes.ok ? (((await logsRes.json()) as { logs?: string }).logs ?? '') : '';
    const lines = logs.split('\n').filter(Boolean);
    for (const line of lines) onLine(line);
    if (status !== 'SUCCEEDED')
      throw new RayJobError(
        `Ray job ${id} ended ${status}${message ? `: ${message}` : ''}\n${lines.slice(-20).join('\n')}`,
      );
  }
}

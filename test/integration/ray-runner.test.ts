import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import contract from '../support/contracts/ray-jobs-api.json';
import { RayJobError, RayTrainerRunner } from '../../src/training/ray-trainer-runner';
import type { TrainerJob } from '../../src/training/trainer-runner';

type Status = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

/**
 * A local HTTP server that replays the Ray Jobs REST API contract recorded in
 * test/support/contracts/ray-jobs-api.json: it keeps submitted jobs, walks each through the given
 * status sequence one poll at a time, and answers logs at the end. No Ray cluster runs here.
 */
class RayJobsReplay {
  readonly requests: { method: string; url: string; body: any }[] = [];
  private readonly jobs = new Map<string, { entrypoint: string; sequence: Status[]; polls: number }>();
  private server!: Server;
  url = '';

  constructor(private readonly sequence: Status[]) {}

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const body = await read(req);
      this.requests.push({ method: req.method!, url: req.url!, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.method === 'POST' && req.url === '/api/jobs/') {
        const id = body.submission_id as string;
        if (this.jobs.has(id)) {
          res.writeHead(contract.duplicateSubmit.status, { 'content-type': 'text/plain' });
          return res.end(contract.duplicateSubmit.text.replace('<submission_id>', id));
        }
        this.jobs.set(id, { entrypoint: body.entrypoint, sequence: [...this.sequence], polls: 0 });
        return send(200, { ...contract.submit.body, submission_id: id });
      }
      const m = /^\/api\/jobs\/([^/]+)(\/logs)?$/.exec(req.url ?? '');
      const job = m && this.jobs.get(decodeURIComponent(m[1]!));
      if (req.method !== 'GET' || !m || !job) return send(404, { detail: 'Job not found' });
      const status = job.sequence[Math.min(job.polls, job.sequence.length - 1)]!;
      if (m[2]) {
        const logs = (contract.logs as Record<string, string>)[status] ?? '';
        return send(200, { logs });
      }
      job.polls++;
      return send(200, {
        ...contract.details,
        submission_id: m[1],
        status,
        entrypoint: job.entrypoint,
        message: (contract.messages as Record<string, string>)[status],
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

function read(req: IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(text ? JSON.parse(text) : null);
    });
  });
}

const JOB: TrainerJob = {
  runId: '7d2c1f0e-0000-4000-8000-000000000001',
  task: 'wrist',
  manifest: '/shared/work/run/manifest.csv',
  outDir: '/shared/work/run/candidate',
  version: 'rt-7d2c1f0e',
  extraArgs: ['--smoke'],
  env: { CARE_SHARED_DIR: '/shared/data' },
};

describe('RayTrainerRunner against the recorded Ray Jobs REST API contract', () => {
  let ray: RayJobsReplay;
  afterEach(async () => ray?.stop());

  it('submits the trainer entrypoint, polls PENDING → RUNNING → SUCCEEDED, then streams the logs', async () => {
    ray = new RayJobsReplay(['PENDING', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    await ray.start();
    const lines: string[] = [];
    await new RayTrainerRunner({ address: `${ray.url}/`, python: '/usr/bin/python3', pollMs: 5 }).run(
      JOB,
      (l) => lines.push(l),
    );
    const [submit, ...rest] = ray.requests;
    expect(submit!.method).toBe('POST');
    expect(submit!.url).toBe('/api/jobs/');
    expect(submit!.body).toMatchObject({
      submission_id: 'care-companion-7d2c1f0e-0000-4000-8000-000000000001',
      runtime_env: { env_vars: { PYTHONUNBUFFERED: '1', CARE_SHARED_DIR: '/shared/data' } },
      metadata: { app: 'care-companion', task: 'wrist', version: 'rt-7d2c1f0e' },
      entrypoint_num_cpus: 2,
    });
    expect(submit!.body.entrypoint).toMatch(
      /^\/usr\/bin\/python3 \S+\/src\/training\/python\/train\.py --task wrist --manifest \/shared\/work\/run\/manifest\.csv --out \/shared\/work\/run\/candidate --version rt-7d2c1f0e --smoke$/,
    );
    expect(rest.map((r) => `${r.method} ${r.url}`)).toEqual([
      ...Array(4).fill('GET /api/jobs/care-companion-7d2c1f0e-0000-4000-8000-000000000001'),
      'GET /api/jobs/care-companion-7d2c1f0e-0000-4000-8000-000000000001/logs',
    ]);
    expect(lines).toContain('ray: care-companion-7d2c1f0e-0000-4000-8000-000000000001 RUNNING');
    expect(lines.at(-1)).toContain('wrote /shared/work/run/candidate/model.json');
  });

  it('rejects with the status, Ray message and the last log lines when the job FAILED', async () => {
    ray = new RayJobsReplay(['RUNNING', 'FAILED']);
    await ray.start();
    const err = await new RayTrainerRunner({ address: ray.url, python: 'python', pollMs: 5 })
      .run(JOB)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayJobError);
    expect((err as Error).message).toMatch(/ended FAILED: Job entrypoint command failed with exit code 1/);
    expect((err as Error).message).toContain('RuntimeError: CUDA out of memory');
  });

  it('treats STOPPED as a failure', async () => {
    ray = new RayJobsReplay(['STOPPED']);
    await ray.start();
    await expect(
      new RayTrainerRunner({ address: ray.url, python: 'python', pollMs: 5 }).run(JOB),
    ).rejects.toThrow(/ended STOPPED: Job was intentionally stopped/);
  });

  it('after a server crash, a resubmission of the same run follows the job already on the cluster', async () => {
    ray = new RayJobsReplay(['RUNNING', 'SUCCEEDED']);
    await ray.start();
    const runner = new RayTrainerRunner({ address: ray.url, python: 'python', pollMs: 5 });
    await runner.run(JOB);
    const lines: string[] = [];
    await runner.run(JOB, (l) => lines.push(l));
    expect(lines[0]).toMatch(/already submitted; following it/);
    expect(ray.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('reports a refused submission (cluster unreachable answers are errors, not successes)', async () => {
    ray = new RayJobsReplay(['SUCCEEDED']);
    await ray.start();
    const runner = new RayTrainerRunner({ address: `${ray.url}/nowhere`, python: 'python', pollMs: 5 });
    await expect(runner.run(JOB)).rejects.toThrow(/Ray job submission failed \(404\)/);
  });
});

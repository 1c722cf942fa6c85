import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Python interpreter with Debian's PyTorch (the `python3` on PATH may lack it). */
export const PYTHON = process.env.CARE_PYTHON ?? '/usr/bin/python3';
/** Folder of the Python trainer. */
export const TRAINER_DIR = join(__dirname, 'python');

/** What the trainer needs for one run. */
export interface TrainerJob {
  /** Unique id of the run (Ray submission id; shows in the trainer's command line). */
  runId?: string;
  task: 'chest' | 'wrist';
  manifest: string;
  outDir: string;
  version: string;
  epochs?: number;
  timeBudgetMin?: number;
  extraArgs?: string[];
  /** Extra environment for the trainer (e.g. CARE_SHARED_DIR). */
  env?: Record<string, string>;
}

/** The trainer's command line (script and arguments), shared by every runner. */
export function trainerArgs(job: TrainerJob): string[] {
  return [
    join(TRAINER_DIR, 'train.py'),
    '--task',
    job.task,
    '--manifest',
    job.manifest,
    '--out',
    job.outDir,
    '--version',
    job.version,
    ...(job.epochs ? ['--epochs', String(job.epochs)] : []),
    ...(job.timeBudgetMin ? ['--time-budget-min', String(job.timeBudgetMin)] : []),
    ...(job.extraArgs ?? []),
  ];
}

/** Inputs of {@link runLeaveOneSourceOut}. */
export interface LosoJob {
  /** Folder of the folds (kept between runs) and of loso.json / LOSO.md. */
  out: string;
  /** Dataset manifest to train the missing folds on; without it, only re-summarises the folds there. */
  manifest?: string;
  /** Only these sources (hospitals) as held-out folds. */
  folds?: string[];
}

/**
 * Leave-one-source-out evaluation of the chest recipe (`python/loso.py`): trains one fold per hospital
 * it holds out (folds already in `out` are kept), then writes the LOSO table (loso.json, LOSO.md).
 */
export function runLeaveOneSourceOut(job: LosoJob, onLine?: (line: string) => void): Promise<void> {
  return runPython(
    [
      join(TRAINER_DIR, 'loso.py'),
      '--out',
      job.out,
      ...(job.manifest ? ['--manifest', job.manifest] : ['--summarize-only']),
      ...(job.folds?.length ? ['--folds', job.folds.join(',')] : []),
    ],
    onLine,
  );
}

/**
 * Runs the trainer somewhere. `LocalTrainerRunner` runs it as a child process here; a Ray runner
 * submits the same script through Ray's job API (the trainer keeps data access and the loop separate).
 */
export interface TrainerRunner {
  /** `local` or `ray`, recorded on the training run. */
  readonly name: string;
  run(job: TrainerJob, onLine?: (line: string) => void): Promise<void>;
  /** Stops the trainers this runner started in this process (shutdown); optional. */
  stopAll?(): void;
}

/** Runs `python train.py` as a child process and streams its output lines. */
export class LocalTrainerRunner implements TrainerRunner {
  readonly name = 'local';
  private readonly children = new Set<ChildProcess>();

  run(job: TrainerJob, onLine: (line: string) => void = (l) => console.log(l)): Promise<void> {
    return runPython(trainerArgs(job), onLine, job.env, (child) => {
      this.children.add(child);
      child.once('exit', () => this.children.delete(child));
    });
  }

  stopAll(): void {
    for (const child of this.children) child.kill('SIGTERM');
  }
}

/** Runs a Python script with the trainer's interpreter; rejects with the exit code and last lines. */
export function runPython(
  args: string[],
  onLine: (line: string) => void = () => undefined,
  env: Record<string, string> = {},
  onSpawn: (child: ChildProcess) => void = () => undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      env: { ...process.env, ...env, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn(child);
    const tail: string[] = [];
    const take = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine(line);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`trainer exited with ${code ?? signal}:\n${tail.join('\n')}`));
    });
  });
}

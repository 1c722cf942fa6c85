import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { ConflictError, NotFoundError } from '../../errors';
import { renderTrainingPng, ImageLimits } from '../../imaging';
import { loadModelManifest } from '../../inference/model-manifest';
import type { JobQueue, QueuedJob } from '../../jobs/job-queue';
import type { Logger } from '../../logging/logger';
import { evaluateModel } from '../../training/evaluate-model';
import { codeVersion } from '../../training/train-model';
import type { EvaluationReport } from '../../training/evaluate';
import { decideGate, GateDecision, GatePolicy } from '../../training/gate';
import { assembleRetrainingDataset } from '../../training/retraining-dataset';
import type { TrainerRunner } from '../../training/trainer-runner';
import { AuditEvent } from '../audit/audit-event.entity';
import { Correction } from '../correction/correction.entity';
import type { CorrectionService } from '../correction/correction.service';
import type { RetrainingArea } from './retraining-area';
import { AuditAction, ModelStage, ModelTask, TrainingRunStatus } from '../enums';
import { lockTaskRegistry } from '../model-version/model-registry.service';
import { ModelVersion } from '../model-version/model-version.entity';
import { AdvisoryLockKey, lockForTransaction } from '../shared/advisory-lock';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { User } from '../user/user.entity';
import { registerTrainedModel } from './model-registration.service';
import { TrainingRun } from './training-run.entity';

/** Queue of retraining jobs. */
const RETRAIN_QUEUE = 'retrain-model';

interface RetrainJobData {
  trainingRunId: string;
}

/** Settings of the retraining loop (from `AppConfig.retraining` plus folders). */
export interface RetrainingOptions {
  modelsDir: string;
  sharedDir: string;
  workDir: string;
  autoMinCorrections: number;
  smoke: boolean;
  epochs: number;
  timeBudgetMin: number;
  baseFraction: number;
  jobExpireSeconds: number;
  gate: GatePolicy;
  imageLimits: ImageLimits;
}

/** Steps of a run, stored in `phase` so that a retried job knows where it stopped. */
export const Phase = {
  ASSEMBLING: 'ASSEMBLING',
  TRAINING: 'TRAINING',
  EVALUATING: 'EVALUATING',
  REGISTERING: 'REGISTERING',
} as const;

/** How often a running worker marks its run alive. */
const HEARTBEAT_MS = 5000;

const ACTIVE = [TrainingRunStatus.QUEUED, TrainingRunStatus.RUNNING];
const TASK_FOLDER: Record<ModelTask, TaskFolder> = { CHEST: 'chest', WRIST: 'wrist' };

/** The figures of an evaluation kept on the run (the full report is large). */
function summary(r: EvaluationReport): Record<string, unknown> {
  return {
    model: r.model,
    n: r.n,
    aurocPerClass: Object.fromEntries(Object.entries(r.aurocPerClass).map(([k, v]) => [k, v.value])),
    atThresholds: Object.fromEntries(
      Object.entries(r.atThresholds).map(([k, v]) => [
        k,
        {
          threshold: v.threshold,
          recall: v.recall.value,
          specificity: v.specificity.value,
          counts: v.counts,
        },
      ]),
    ),
    accuracy: r.accuracy,
    ece: r.ece,
  };
}

/** What an assembled dataset is (manifest, counts, where the images are). */
type Dataset = Awaited<ReturnType<typeof assembleRetrainingDataset>>;
type TaskFolder = 'chest' | 'wrist';

/**
 * The retraining loop. A run is created by an admin (`startRetraining`) or by the auto trigger when a
 * task has `autoMinCorrections` new corrections since its last run, and handled as a durable job:
 * ASSEMBLING (original data + corrections, patient-grouped splits) → TRAINING (the trainer, through the
 * configured runner) → EVALUATING (candidate and production on the same held-out test split, same
 * code) → gate → REGISTERING (only when the gate passed) or REJECTED. The verdict and its numbers are
 * stored either way.
 *
 * Crash safety: the candidate is trained in the run's work folder, never in the model repository. It
 * reaches `models/<task>/<version>/` by a rename from `models/.staging/` just before the one commit
 * that inserts the ModelVersion and marks the run SUCCEEDED. A trainer that dies fails the run
 * (FAILED, error stored, nothing registered). A server that dies leaves the job to expire and be
 * retried: it restarts the run from ASSEMBLING, or, when it stopped in REGISTERING, finishes the
 * registration idempotently (a version already present is linked, not duplicated).
 */
export class RetrainingService {
  private stopping = false;

  constructor(
    private readonly rootEm: EntityManager,
    private readonly queue: JobQueue,
    private readonly runner: TrainerRunner,
    private readonly corrections: CorrectionService,
    private readonly area: RetrainingArea,
    private readonly options: RetrainingOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts a run now (MANAGE_MODELS); CONFLICT while one is queued or running for the task. */
  async start(ctx: RequestContext, task: ModelTask): Promise<TrainingRun> {
    const principal = assertPermission(ctx.principal, Permission.MANAGE_MODELS);
    const run = await this.create(task, 'MANUAL', principal.userId, (em, r) =>
      ctx.audit.write(em, { action: AuditAction.CREATE, entityType: 'TrainingRun', entityId: r.id }),
    );
    if (!run) throw new ConflictError('A retraining run of this task is already queued or running', { task });
    return run;
  }

  /** Reads a run (READ_MODELS). */
  async get(ctx: RequestContext, id: string): Promise<TrainingRun> {
    assertPermission(ctx.principal, Permission.READ_MODELS);
    const run = isUuid(id) ? await ctx.em.getRepository(TrainingRun).findOne({ id }) : null;
    if (!run) throw NotFoundError.of('TrainingRun', id);
    return run;
  }

  /**
   * The auto trigger: starts a run when the task has at least `autoMinCorrections` corrected
   * predictions since its last run (of any outcome). Returns the run, or null.
   */
  async maybeStartAutomatically(task: ModelTask): Promise<TrainingRun | null> {
    if (this.options.autoMinCorrections <= 0) return null;
    const em = this.rootEm.fork();
    const corrected = await em.getRepository(Correction).countCorrectedSinceLastRun(task);
    if (corrected < this.options.autoMinCorrections) return null;
    const run = await this.create(task, 'AUTO', null, (tem, r) =>
      tem.persist(
        Object.assign(new AuditEvent(), {
          actorId: null,
          actorRole: null,
          action: AuditAction.CREATE,
          entityType: 'TrainingRun',
          entityId: r.id,
          operation: 'autoRetraining',
        }),
      ),
    );
    if (run)
      this.logger.info(
        { task, trainingRunId: run.id, corrections: corrected },
        'retraining started by new corrections',
      );
    return run;
  }

  /** Listener for the correction service: checks the auto trigger without blocking the mutation. */
  readonly onCorrection = (task: ModelTask): void => {
    this.maybeStartAutomatically(task).catch((e: Error) =>
      this.logger.warn({ err: e.message, task }, 'auto retraining check failed'),
    );
  };

  /**
   * Shutdown: stops this process's trainers and leaves their runs RUNNING, so that the job expires
   * and another worker (or this one, restarted) resumes them.
   */
  close(): void {
    this.stopping = true;
    this.runner.stopAll?.();
  }

  /** Starts workers for the retraining queue in this process. */
  async startWorkers(concurrency: number): Promise<void> {
    await this.queue.work<RetrainJobData>(RETRAIN_QUEUE, { concurrency, pollingIntervalSeconds: 1 }, (job) =>
      this.handle(job),
    );
  }

  private async create(
    task: ModelTask,
    trigger: 'MANUAL' | 'AUTO',
    userId: string | null,
    audit: (em: EntityManager, run: TrainingRun) => void,
  ): Promise<TrainingRun | null> {
    const em = this.rootEm.fork();
    const run = await em.transactional(async (tem) => {
      // One active run per task, across processes.
      await lockForTransaction(tem, AdvisoryLockKey.hashtext(`retrain:${task}`));
      const active = await tem.getRepository(TrainingRun).countInStatuses(task, ACTIVE);
      if (active > 0) return null;
      const r = tem.create(TrainingRun, {
        task,
        status: TrainingRunStatus.QUEUED,
        trigger,
        runner: this.runner.name,
        parameters: {
          epochs: this.options.epochs,
          timeBudgetMin: this.options.timeBudgetMin,
          smoke: this.options.smoke,
          baseFraction: this.options.baseFraction,
          gate: this.options.gate,
        },
        createdBy: userId ? tem.getReference(User, userId) : null,
      } as unknown as TrainingRun);
      r.candidateVersion = `rt-${r.id.slice(0, 8)}`;
      audit(tem, r);
      return r;
    });
    if (!run) return null;
    try {
      await this.queue.enqueue(RETRAIN_QUEUE, [{ trainingRunId: run.id }], {
        retryLimit: 3,
        expireInSeconds: this.options.jobExpireSeconds,
      });
    } catch (error) {
      await em.getRepository(TrainingRun).markNotQueued(run.id);
      throw error;
    }
    return run;
  }

  /** Runs (or resumes) one training run. */
  async handle(job: QueuedJob<RetrainJobData>): Promise<void> {
    const em = this.rootEm.fork();
    const run = await em.getRepository(TrainingRun).findOne({ id: job.data.trainingRunId });
    if (!run || !ACTIVE.includes(run.status)) return;
    const task = TASK_FOLDER[run.task];
    const workDir = join(this.options.workDir, run.id);
    const outDir = join(workDir, 'candidate');
    if (
      run.status === TrainingRunStatus.RUNNING &&
      run.heartbeatAt &&
      Date.now() - run.heartbeatAt.getTime() < 3 * HEARTBEAT_MS
    ) {
      // The job expired while its worker is still alive (a run longer than RETRAIN_JOB_EXPIRE_SECONDS):
      // never train twice; this attempt fails and the queue tries again later.
      throw new ConflictError('The training run is still alive in another worker', { trainingRunId: run.id });
    }
    const beat = setInterval(() => {
      this.rootEm
        .fork()
        .getRepository(TrainingRun)
        .setHeartbeat(run.id, new Date())
        // A missed beat only risks another worker taking the run over later; say so, keep training.
        .catch((e: Error) =>
          this.logger.warn({ trainingRunId: run.id, err: e.message }, 'training run heartbeat failed'),
        );
    }, HEARTBEAT_MS);
    run.heartbeatAt = new Date();
    try {
      if (run.phase === Phase.REGISTERING && (run.gateVerdict as GateDecision | null)?.passed) {
        this.logger.info({ trainingRunId: run.id }, 'resuming the registration of a retrained model');
        await this.register(em, run, outDir);
        return;
      }
      await this.begin(em, run, workDir);
      const dataset = await this.assemble(em, run, task, workDir);
      await this.train(run, task, dataset, workDir, outDir);
      const gated = await this.gate(em, run, dataset, outDir);
      if (!gated.passed) return;
      run.phase = Phase.REGISTERING;
      await em.flush();
      await this.register(em, run, outDir, gated.productionVersion);
    } catch (error) {
      if (this.stopping) {
        // Left RUNNING for the retry, with no heartbeat so that the retry does not wait for it.
        clearInterval(beat);
        await this.rootEm.fork().getRepository(TrainingRun).setHeartbeat(run.id, null);
        throw error;
      }
      await this.recordFailure(run, error);
    } finally {
      clearInterval(beat);
    }
  }

  /** Phase 1: marks the run RUNNING (a restart after a stopped worker is logged) and clears its work folder. */
  private async begin(em: EntityManager, run: TrainingRun, workDir: string): Promise<void> {
    const startedAgain = run.status === TrainingRunStatus.RUNNING;
    run.status = TrainingRunStatus.RUNNING;
    run.startedAt ??= new Date();
    run.phase = Phase.ASSEMBLING;
    run.runner = this.runner.name;
    run.codeVersion = codeVersion();
    await em.flush();
    if (startedAgain)
      this.logger.warn({ trainingRunId: run.id }, 'a retraining run restarts after its worker stopped');
    await rm(workDir, { recursive: true, force: true });
  }

  /** Phase 2: assembles the dataset (latest corrections and the base sets) and records its manifest and counts. */
  private async assemble(
    em: EntityManager,
    run: TrainingRun,
    task: TaskFolder,
    workDir: string,
  ): Promise<Dataset> {
    const rows = await this.corrections.latestRows(run.task, run.createdAt);
    const dataset = await assembleRetrainingDataset({
      task,
      workDir,
      sharedDir: this.options.sharedDir,
      corrections: rows.map((r) => ({ objectKey: r.objectKey, trueLabel: r.trueLabel, group: r.group })),
      renderCopy: async (key) => renderTrainingPng(await this.area.get(key), this.options.imageLimits),
      baseFraction: this.options.baseFraction,
    });
    run.manifestSha256 = dataset.manifestSha256;
    run.datasetCounts = dataset.counts as unknown as Record<string, unknown>;
    run.correctionsUsed = new Set(rows.map((r) => r.correctionId)).size;
    run.phase = Phase.TRAINING;
    await em.flush();
    return dataset;
  }

  /** Phase 3: trains the candidate with the configured runner (checkpointed, so a retry resumes). */
  private async train(
    run: TrainingRun,
    task: TaskFolder,
    dataset: Dataset,
    workDir: string,
    outDir: string,
  ): Promise<void> {
    await this.runner.run(
      {
        runId: run.id,
        task,
        manifest: dataset.manifestPath,
        outDir,
        version: run.candidateVersion!,
        epochs: this.options.epochs,
        timeBudgetMin: this.options.timeBudgetMin,
        extraArgs: [
          '--checkpoint-dir',
          join(workDir, 'checkpoint'),
          ...(this.options.smoke ? ['--smoke', '--n-boot', '20'] : []),
        ],
        env: { CARE_SHARED_DIR: dataset.datasetsRoot.replace(/\/datasets$/, '') },
      },
      (line) => this.logger.debug({ trainingRunId: run.id, line }, 'trainer'),
    );
  }

  /**
   * Phase 4: evaluates the candidate and the task's PRODUCTION version on the test split and applies the
   * gate; a rejected run is finished here. Returns the verdict and the production version compared with.
   */
  private async gate(
    em: EntityManager,
    run: TrainingRun,
    dataset: Dataset,
    outDir: string,
  ): Promise<{ passed: boolean; productionVersion: ModelVersion | null }> {
    run.phase = Phase.EVALUATING;
    await em.flush();
    const evalOptions = {
      labels: dataset.manifestPath,
      root: dataset.datasetsRoot,
      split: 'test',
      resamples: 200,
    };
    const candidate = await evaluateModel({ ...evalOptions, model: outDir });
    const productionVersion = await em
      .getRepository(ModelVersion)
      .findAtStage(run.task, ModelStage.PRODUCTION);
    const production = productionVersion
      ? await evaluateModel({ ...evalOptions, model: productionVersion.artifactPath })
      : null;
    const targets = Object.fromEntries(
      Object.entries(candidate.manifest.thresholds).map(([label, t]) => [label, t.targetRecall]),
    );
    const policy = (run.parameters.gate as GatePolicy | undefined) ?? this.options.gate;
    const decision = decideGate(candidate.report, targets, production?.report ?? null, policy);
    run.metrics = {
      testSplit: {
        candidate: summary(candidate.report),
        production: production ? summary(production.report) : null,
      },
      productionVersion: productionVersion?.version ?? null,
      trainer: candidate.manifest.metrics as Record<string, unknown>,
    };
    run.gateVerdict = decision as unknown as Record<string, unknown>;
    if (!decision.passed) {
      run.status = TrainingRunStatus.REJECTED;
      run.phase = null;
      run.finishedAt = new Date();
      await em.flush();
      this.logger.info(
        { trainingRunId: run.id, reasons: decision.reasons },
        'retrained model rejected by the gate',
      );
      return { passed: false, productionVersion };
    }
    return { passed: true, productionVersion };
  }

  /** Records a failed run (FAILED with the error, unless it already finished). */
  private async recordFailure(run: TrainingRun, error: unknown): Promise<void> {
    const message = (error as Error).message ?? String(error);
    this.logger.warn({ trainingRunId: run.id, err: message.slice(0, 500) }, 'retraining run failed');
    await this.rootEm.fork().getRepository(TrainingRun).failIfIn(run.id, ACTIVE, message.slice(0, 4000));
  }

  /** Moves the candidate into the repository and commits version + verdict together. */
  private async register(
    em: EntityManager,
    run: TrainingRun,
    outDir: string,
    parent?: ModelVersion | null,
  ): Promise<void> {
    const version = run.candidateVersion!;
    const finalDir = join(this.options.modelsDir, TASK_FOLDER[run.task], version);
    let moved = false;
    if (!existsSync(join(finalDir, 'model.json'))) {
      const staging = join(this.options.modelsDir, '.staging', run.id);
      await rm(staging, { recursive: true, force: true });
      await mkdir(dirname(staging), { recursive: true });
      await cp(outDir, staging, { recursive: true });
      await mkdir(dirname(finalDir), { recursive: true });
      await rename(staging, finalDir);
      moved = true;
    }
    const manifest = await loadModelManifest(finalDir);
    // Under the registry lock of the task, like promotions and the start-up sync.
    await em.begin();
    try {
      await lockTaskRegistry(em, run.task);
      const existing = await em.getRepository(ModelVersion).findByName(run.task, version);
      if (existing) {
        // A crash after the move: the start-up sync registered the folder; link it, do not duplicate.
        existing.trainingRun = run;
        run.status = TrainingRunStatus.SUCCEEDED;
        run.phase = null;
        run.finishedAt = new Date();
      } else {
        const modelVersion = registerTrainedModel(em, run, {
          task: run.task,
          version,
          artifactPath: finalDir,
          manifest,
          manifestSha256: run.manifestSha256 ?? manifest.trainingData.manifestSha256,
          parent:
            parent ?? (await em.getRepository(ModelVersion).findAtStage(run.task, ModelStage.PRODUCTION)),
        });
        em.persist(
          Object.assign(new AuditEvent(), {
            actorId: run.createdBy?.id ?? null,
            actorRole: null,
            action: AuditAction.CREATE,
            entityType: 'ModelVersion',
            entityId: modelVersion.id,
            operation: 'retraining',
          }),
        );
      }
      await em.commit();
    } catch (error) {
      await em.rollback().catch(() => undefined);
      if (moved) await rm(finalDir, { recursive: true, force: true });
      throw error;
    }
    this.logger.info({ trainingRunId: run.id, version }, 'retrained model registered as STAGING');
  }
}

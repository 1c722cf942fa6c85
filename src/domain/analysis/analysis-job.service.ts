import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { AppError, NotFoundError, ValidationError } from '../../errors';
import type { JobQueue, QueuedJob } from '../../jobs/job-queue';
import type { Logger } from '../../logging/logger';
import { Topic } from '../shared/events';
import { AuditAction, AnalysisJobStatus, StudyPriority } from '../enums';
import { AuditEvent } from '../audit/audit-event.entity';
import { AdvisoryLockKey, lockForTransaction } from '../shared/advisory-lock';
import type { EventPublisher } from '../shared/event-publisher';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { Study } from '../study/study.entity';
import { User } from '../user/user.entity';
import { AnalysisJob } from './analysis-job.entity';
import type { AnalysisOutcome, AnalysisService } from './analysis.service';

/** Queue name of per-study analysis jobs. */
const ANALYZE_QUEUE = 'analyze-study';
/** Most studies in one submission. */
const MAX_STUDIES_PER_JOB = 10_000;

interface AnalyzeJobData {
  analysisJobId: string;
  studyId: string;
}

const QUEUE_PRIORITY: Record<StudyPriority, number> = { STAT: 2, URGENT: 1, ROUTINE: 0 };

/**
 * Batch analysis: `submitStudies` records an AnalysisJob and enqueues one durable job per study;
 * workers in any process take them exactly once per attempt, run the analysis, and count progress
 * in the same transaction as the prediction (a retried job finds its prediction and does not count twice).
 */
export class AnalysisJobService {
  constructor(
    private readonly rootEm: EntityManager,
    private readonly queue: JobQueue,
    private readonly analysis: AnalysisService,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    private readonly options: { expireInSeconds: number } = { expireInSeconds: 300 },
  ) {}

  /** Validates the studies, records the job and enqueues its work. */
  async submit(ctx: RequestContext, studyIds: string[]): Promise<AnalysisJob> {
    const principal = assertPermission(ctx.principal, Permission.ANALYZE_STUDIES);
    const unique = [...new Set(studyIds)];
    if (unique.length === 0 || unique.length > MAX_STUDIES_PER_JOB) {
      throw new ValidationError(`Submit between 1 and ${MAX_STUDIES_PER_JOB} studies`, {
        field: 'studyIds',
        max: MAX_STUDIES_PER_JOB,
      });
    }
    const bad = unique.filter((id) => !isUuid(id));
    if (bad.length) throw new ValidationError('studyIds holds invalid ids', { field: 'studyIds' });
    const studies = await ctx.em.getRepository(Study).findQueueKeys(unique);
    if (studies.length !== unique.length) {
      const found = new Set(studies.map((s) => s.id));
      throw NotFoundError.of(
        'Study',
        unique.find((id) => !found.has(id))!,
      );
    }
    const job = ctx.em.create(AnalysisJob, {
      studyIds: unique,
      total: unique.length,
      createdBy: ctx.em.getReference(User, principal.userId),
    } as AnalysisJob);
    for (const s of studies)
      ctx.audit.write(ctx.em, {
        action: AuditAction.ANALYZE,
        entityType: 'Study',
        entityId: s.id,
        patientId: s.patient.id,
      });
    await ctx.em.flush();
    try {
      const byPriority = new Map<number, AnalyzeJobData[]>();
      for (const s of studies) {
        const p = QUEUE_PRIORITY[s.priority];
        byPriority.set(p, [...(byPriority.get(p) ?? []), { analysisJobId: job.id, studyId: s.id }]);
      }
      for (const [priority, data] of byPriority)
        await this.queue.enqueue(ANALYZE_QUEUE, data, {
          priority,
          expireInSeconds: this.options.expireInSeconds,
        });
    } catch (error) {
      job.status = AnalysisJobStatus.FAILED;
      job.finishedAt = new Date();
      await ctx.em.flush();
      throw error;
    }
    this.publish(job);
    return job;
  }

  /** Reads a job: its progress and each study's prediction id (READ_ANALYSIS_JOBS: technicians, radiologists, integrators). */
  async get(ctx: RequestContext, id: string): Promise<AnalysisJob> {
    assertPermission(ctx.principal, Permission.READ_ANALYSIS_JOBS);
    const job = isUuid(id) ? await ctx.em.getRepository(AnalysisJob).findOne({ id }) : null;
    if (!job) throw NotFoundError.of('AnalysisJob', id);
    return job;
  }

  /**
   * State of batch analysis for metrics: the durable queue's jobs per state, and submissions per
   * status (one grouped count).
   */
  async queueState(): Promise<{
    queues: Record<string, Record<string, number>>;
    jobs: Record<string, number>;
  }> {
    const rows = await this.rootEm.fork().getRepository(AnalysisJob).countByStatus();
    const jobs: Record<string, number> = Object.fromEntries(
      Object.values(AnalysisJobStatus).map((s) => [s, 0]),
    );
    for (const row of rows) jobs[row.status] = row.n;
    return { queues: { [ANALYZE_QUEUE]: await this.queue.states(ANALYZE_QUEUE) }, jobs };
  }

  /** Starts workers for the analysis queue in this process. */
  async startWorkers(concurrency: number): Promise<void> {
    await this.queue.work<AnalyzeJobData>(
      ANALYZE_QUEUE,
      { concurrency, pollingIntervalSeconds: 0.5 },
      (job) => this.handle(job),
    );
  }

  /** Handles one study of a job; permanent (domain) failures are recorded, others retried. */
  async handle(job: QueuedJob<AnalyzeJobData>): Promise<void> {
    const { analysisJobId, studyId } = job.data;
    const em = this.rootEm.fork();
    const analysisJob = await em.getRepository(AnalysisJob).findOne({ id: analysisJobId });
    if (!analysisJob) return;
    if (analysisJob.status === AnalysisJobStatus.QUEUED)
      await em.getRepository(AnalysisJob).startIfQueued(analysisJobId);
    let failure: string | null = null;
    let predictionId: string | null = null;
    let patientId: string | null = null;
    let outcome: AnalysisOutcome | null = null;
    // Whether this attempt changed the job (counted the study); a retry of a study already counted
    // (its first attempt committed, then its completion was lost) changes nothing and tells no one.
    let counted = false;
    this.logger.debug({ queueJobId: job.id, analysisJobId, studyId, attempt: job.retryCount }, 'study taken');
    try {
      await em.transactional(async (tem) => {
        outcome = await this.analyzeOnce(tem, analysisJob, studyId);
        if (!outcome) return;
        predictionId = outcome.prediction.id;
        patientId = outcome.prediction.study.patient.id;
        counted = true;
      });
      const done = outcome as AnalysisOutcome | null;
      if (done && !done.reused) this.analysis.announce(done);
    } catch (error) {
      const permanent = error instanceof AppError && error.httpStatus < 500;
      if (!permanent && job.retryCount < job.retryLimit) throw error;
      failure = error instanceof AppError ? error.code : 'INTERNAL_ERROR';
      this.logger.warn(
        { studyId, analysisJobId, code: failure, err: (error as Error).message },
        'study analysis failed',
      );
      counted = await em.getRepository(AnalysisJob).recordStudyFailure(analysisJobId, studyId, failure);
    }
    if (!counted) {
      // A redelivery of a study already counted: its first attempt committed, and what came after it
      // (finishing the job) may not have, e.g. the database went away in between. The job is finished
      // here if that is all it lacks (and then, only then, subscribers are told).
      if (await em.getRepository(AnalysisJob).finishIfDone(analysisJobId))
        await this.publishLatest(analysisJobId);
      return;
    }
    await em.getRepository(AnalysisJob).finishIfDone(analysisJobId);
    await this.publishLatest(analysisJobId, { studyId, predictionId, patientId, failure });
  }

  /** Publishes the job as it now stands, with the study this attempt settled (if it settled one). */
  private async publishLatest(
    analysisJobId: string,
    settled?: {
      studyId: string;
      predictionId: string | null;
      patientId: string | null;
      failure: string | null;
    },
  ): Promise<void> {
    const fresh = await this.rootEm.fork().getRepository(AnalysisJob).findOne({ id: analysisJobId });
    if (fresh) this.publish(fresh, settled);
  }

  /**
   * Reads one study of a job and counts it, in the caller's transaction; null when an earlier attempt
   * already counted it. One attempt per study at a time across processes: an attempt handed out again
   * after its item expired waits on the lock, then finds the study counted by the first one. The lock
   * ends with the transaction, also when the process holding it dies (its connection closes).
   */
  private async analyzeOnce(
    tem: EntityManager,
    analysisJob: AnalysisJob,
    studyId: string,
  ): Promise<AnalysisOutcome | null> {
    const analysisJobId = analysisJob.id;
    // One attempt per study at a time across processes: an attempt handed out again after its
    // item expired waits here, then finds the study counted by the first one. The lock ends with
    // the transaction, also when the process holding it dies (its connection closes).
    await lockForTransaction(
      tem,
      AdvisoryLockKey.hashtextExtended(`analysis-job:${analysisJobId}:${studyId}`),
    );
    const jobs = tem.getRepository(AnalysisJob);
    // A retry after the study was counted.
    if (await jobs.isStudyCounted(analysisJobId, studyId)) return null;
    const outcome = await this.analysis.run(tem, studyId, {
      analysisJob: tem.getReference(AnalysisJob, analysisJobId),
    });
    const patientId = outcome.prediction.study.patient.id;
    const creator = analysisJob.createdBy?.id ?? null;
    const event = tem.create(AuditEvent, {
      actorId: creator,
      action: AuditAction.ANALYZE,
      entityType: 'Prediction',
      entityId: outcome.prediction.id,
      patientId,
      operation: 'mutation submitStudies',
    } as AuditEvent);
    tem.persist(event);
    await jobs.recordStudyCompleted(analysisJobId, studyId, outcome.prediction.id);
    return outcome;
  }

  private publish(
    job: AnalysisJob,
    last?: { studyId: string; predictionId: string | null; patientId: string | null; failure: string | null },
  ): void {
    this.events.publish(Topic.ANALYSIS_JOB_UPDATED, {
      analysisJobId: job.id,
      status: job.status,
      completed: job.completed,
      failed: job.failed,
      total: job.total,
      ...(last
        ? { lastStudyId: last.studyId, lastPredictionId: last.predictionId, lastFailure: last.failure }
        : {}),
    });
  }
}

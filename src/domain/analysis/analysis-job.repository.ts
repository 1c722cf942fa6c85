import { EntityRepository } from '@mikro-orm/postgresql';
import { AnalysisJobStatus } from '../enums';
import type { AnalysisJob } from './analysis-job.entity';

/**
 * Reads of batch analysis jobs, and the atomic updates that count their studies: each runs in the
 * transaction of the EntityManager the repository came from (`tem.getRepository(AnalysisJob)`).
 */
export class AnalysisJobRepository extends EntityRepository<AnalysisJob> {
  /** Submissions counted by status (one grouped count). */
  countByStatus(): Promise<{ status: string; n: number }[]> {
    return this.em
      .getConnection()
      .execute<{ status: string; n: number }[]>(
        'select status, count(*)::int as n from analysis_job group by status',
      );
  }

  /** True when a study of a job already has its result or failure (in the unit of work's transaction). */
  async isStudyCounted(analysisJobId: string, studyId: string): Promise<boolean> {
    const [state] = await this.em
      .getConnection()
      .execute<{ done: boolean }[]>(
        'select (results ->> ?::text is not null or failures ->> ?::text is not null) as done from analysis_job where id = ?',
        [studyId, studyId, analysisJobId],
        'all',
        this.em.getTransactionContext(),
      );
    return Boolean(state?.done);
  }

  /** Marks a QUEUED job RUNNING (a job another worker already moved on is left as it is). */
  async startIfQueued(analysisJobId: string): Promise<void> {
    await this.nativeUpdate(
      { id: analysisJobId, status: AnalysisJobStatus.QUEUED },
      { status: AnalysisJobStatus.RUNNING },
    );
  }

  /**
   * Counts a study of a job as failed with `code`, unless it already has its result or failure (one
   * statement, so a retry never counts a study twice). True when this call counted it.
   */
  async recordStudyFailure(analysisJobId: string, studyId: string, code: string): Promise<boolean> {
    const changed = await this.em
      .getConnection()
      .execute<{ affectedRows?: number }>(
        `update analysis_job set failed = failed + 1, failures = failures || jsonb_build_object(?::text, ?::text) where id = ? and results ->> ?::text is null and failures ->> ?::text is null`,
        [studyId, code, analysisJobId, studyId, studyId],
        'run',
        this.em.getTransactionContext(),
      );
    return (changed.affectedRows ?? 0) > 0;
  }

  /**
   * Counts a study of a job as completed with its prediction (in the unit of work's transaction, with
   * the prediction; the caller holds the study's lock and has checked it is not counted yet).
   */
  async recordStudyCompleted(analysisJobId: string, studyId: string, predictionId: string): Promise<void> {
    await this.em
      .getConnection()
      .execute(
        'update analysis_job set completed = completed + 1, results = results || jsonb_build_object(?::text, ?::text) where id = ?',
        [studyId, predictionId, analysisJobId],
        'run',
        this.em.getTransactionContext(),
      );
  }

  /**
   * Finishes a job once every study is counted: FAILED when all failed, else COMPLETED, stamped now.
   * Conditional, so of concurrent last studies exactly one finishes it; true for that one.
   */
  async finishIfDone(analysisJobId: string): Promise<boolean> {
    const result = await this.em
      .getConnection()
      .execute<{ affectedRows?: number }>(
        `update analysis_job set status = case when failed = total then 'FAILED' else 'COMPLETED' end, finished_at = now() where id = ? and completed + failed >= total and finished_at is null`,
        [analysisJobId],
        'run',
        this.em.getTransactionContext(),
      );
    return (result.affectedRows ?? 0) > 0;
  }
}

import { EntityRepository } from '@mikro-orm/postgresql';
import type { AnalysisJob } from './analysis-job.entity';

/** Reads of batch analysis jobs. */
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
}

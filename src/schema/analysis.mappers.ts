import type { AnalysisJob } from '../domain/analysis/analysis-job.entity';
import { AnalysisJobType } from './analysis.types';

export const toAnalysisJob = (j: AnalysisJob): AnalysisJobType =>
  Object.assign(new AnalysisJobType(), {
    id: j.id,
    status: j.status,
    studyIds: j.studyIds,
    total: j.total,
    completed: j.completed,
    failed: j.failed,
    failures: Object.entries(j.failures ?? {}).map(([studyId, code]) => ({ studyId, code })),
    results: Object.entries(j.results ?? {}).map(([studyId, predictionId]) => ({ studyId, predictionId })),
    createdAt: j.createdAt,
    finishedAt: j.finishedAt ?? null,
  });

import type { TrainingRun } from '../domain/training-run/training-run.entity';
import { TrainingRunType } from './retraining.types';

export const toTrainingRun = (r: TrainingRun): TrainingRunType =>
  Object.assign(new TrainingRunType(), {
    id: r.id,
    task: r.task,
    status: r.status,
    parameters: r.parameters,
    codeVersion: r.codeVersion ?? null,
    manifestSha256: r.manifestSha256 ?? null,
    datasetCounts: r.datasetCounts ?? null,
    metrics: r.metrics ?? null,
    gateVerdict: r.gateVerdict ?? null,
    startedAt: r.startedAt ?? null,
    finishedAt: r.finishedAt ?? null,
    error: r.error ?? null,
    trigger: r.trigger,
    runner: r.runner ?? null,
    candidateVersion: r.candidateVersion ?? null,
    phase: r.phase ?? null,
    correctionsUsed: r.correctionsUsed,
    createdAt: r.createdAt,
  });

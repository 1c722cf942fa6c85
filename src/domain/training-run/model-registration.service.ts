import type { EntityManager } from '@mikro-orm/postgresql';
import type { ModelManifest } from '../../inference/model-manifest';
import { ModelStage, ModelTask, TrainingRunStatus } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { TrainingRun } from './training-run.entity';

/** What a finished training contributes to the registry. */
export interface TrainedModel {
  task: ModelTask;
  version: string;
  /** Folder holding model.onnx and model.json (already in its final place). */
  artifactPath: string;
  manifest: ModelManifest;
  manifestSha256: string;
  /** Version it was trained to replace (lineage), if any. */
  parent?: ModelVersion | null;
}

/**
 * Records a trained model as a STAGING {@link ModelVersion} linked to its {@link TrainingRun}, and
 * marks the run SUCCEEDED, in the caller's unit of work: the caller flushes once, so the version and
 * the run's verdict commit together or not at all (never half-registered). Used by `npm run train
 * -- --register` and by the retraining job.
 */
export function registerTrainedModel(em: EntityManager, run: TrainingRun, model: TrainedModel): ModelVersion {
  const m = model.manifest;
  run.status = TrainingRunStatus.SUCCEEDED;
  run.finishedAt = new Date();
  run.phase = null;
  run.metrics ??= m.metrics as Record<string, unknown>;
  run.datasetCounts ??= m.trainingData.counts as Record<string, unknown>;
  run.manifestSha256 ??= model.manifestSha256;
  const version = em.create(ModelVersion, {
    task: model.task,
    version: model.version,
    stage: ModelStage.STAGING,
    artifactPath: model.artifactPath,
    manifestSha256: model.manifestSha256,
    metrics: { aurocPerClass: m.metrics.aurocPerClass, atThresholds: m.metrics.atThresholds },
    trainingRun: run,
    parent: model.parent ?? null,
  } as unknown as ModelVersion);
  em.persist(run);
  return version;
}

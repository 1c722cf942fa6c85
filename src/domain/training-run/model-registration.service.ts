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

/** A model trained from the command line (`npm run train -- --register`), outside the retraining loop. */
export interface CliTrainedModel {
  /** The trainer's task name (the `models/<task>/` folder). */
  task: 'chest' | 'wrist';
  version: string;
  /** Folder holding model.onnx and model.json. */
  artifactPath: string;
  manifest: ModelManifest;
  manifestSha256: string;
  /** The trainer options given on the command line; the manifest's hyperparameters are added to them. */
  parameters: Record<string, unknown>;
  /** Revision of the code that trained it. */
  codeVersion: string;
  startedAt: Date;
}

/**
 * Records a model trained from the command line: a TrainingRun (trigger CLI, local runner) and its
 * STAGING {@link ModelVersion} (through {@link registerTrainedModel}), committed in one flush. The CLI
 * stays a shell: it never builds entities itself.
 */
export async function registerCliTraining(
  em: EntityManager,
  trained: CliTrainedModel,
): Promise<{ modelVersionId: string; trainingRunId: string; stage: ModelStage }> {
  const m = trained.manifest;
  const task = trained.task === 'chest' ? ModelTask.CHEST : ModelTask.WRIST;
  const run = em.create(TrainingRun, {
    task,
    status: TrainingRunStatus.RUNNING,
    trigger: 'CLI',
    runner: 'local',
    candidateVersion: trained.version,
    parameters: { ...trained.parameters, ...m.training.hyperparameters },
    codeVersion: trained.codeVersion,
    manifestSha256: trained.manifestSha256,
    datasetCounts: m.trainingData.counts,
    metrics: m.metrics as Record<string, unknown>,
    startedAt: trained.startedAt,
  } as unknown as TrainingRun);
  const version = registerTrainedModel(em, run, {
    task,
    version: trained.version,
    artifactPath: trained.artifactPath,
    manifest: m,
    manifestSha256: trained.manifestSha256,
  });
  await em.flush();
  return { modelVersionId: version.id, trainingRunId: run.id, stage: version.stage };
}

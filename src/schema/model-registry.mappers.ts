import type { ModelLineage } from '../domain/model-version/model-lineage.service';
import type { ModelStageChange } from '../domain/model-version/model-stage-change.entity';
import type { ModelVersion } from '../domain/model-version/model-version.entity';
import type { User } from '../domain/user/user.entity';
import {
  ModelLineageType,
  ModelStageChangeType,
  ModelVersionType,
  RegistryActorType,
} from './model-registry.types';
import { toTrainingRun } from './retraining.mappers';

export const toModelVersion = (m: ModelVersion): ModelVersionType =>
  Object.assign(new ModelVersionType(), {
    id: m.id,
    task: m.task,
    version: m.version,
    stage: m.stage,
    trafficShare: m.trafficShare,
    artifactPath: m.artifactPath,
    manifestSha256: m.manifestSha256 ?? null,
    metrics: m.metrics ?? null,
    promotedAt: m.promotedAt ?? null,
    parentId: m.parent?.id ?? null,
    trainingRunId: m.trainingRun?.id ?? null,
    previousProductionId: m.previousProduction?.id ?? null,
    createdAt: m.createdAt,
  });

const toActor = (u: User | null | undefined): RegistryActorType | null =>
  u ? Object.assign(new RegistryActorType(), { id: u.id, displayName: u.displayName, role: u.role }) : null;

export const toModelStageChange = (c: ModelStageChange): ModelStageChangeType =>
  Object.assign(new ModelStageChangeType(), {
    id: c.id,
    kind: c.kind,
    fromStage: c.fromStage,
    toStage: c.toStage,
    trafficShare: c.trafficShare,
    actor: toActor(c.actor),
    createdAt: c.createdAt,
  });

export const toModelLineage = (l: ModelLineage): ModelLineageType => {
  const run = l.trainingRun;
  const seconds =
    run?.startedAt && run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : null;
  return Object.assign(new ModelLineageType(), {
    modelVersion: toModelVersion(l.version),
    parents: l.ancestors.map(toModelVersion),
    trainingRun: run ? toTrainingRun(run) : null,
    codeVersion: run?.codeVersion ?? null,
    trainingDurationSeconds: seconds,
    datasetManifestSha256: run?.manifestSha256 ?? l.version.manifestSha256 ?? null,
    datasetCounts: run?.datasetCounts ?? null,
    gateVerdict: run?.gateVerdict ?? null,
    metrics: l.version.metrics ?? null,
    promotedBy: toActor(l.promotedBy),
    promotedAt: l.version.promotedAt ?? null,
    stageChanges: l.stageChanges.map(toModelStageChange),
  });
};

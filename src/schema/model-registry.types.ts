import { IsOptional } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { ModelStage, ModelStageChangeKind, ModelTask, Role } from '../domain/enums';
import { TrainingRunType } from './retraining.types';

@ObjectType('ModelVersion', { description: 'A registered model version and its rollout stage.' })
export class ModelVersionType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ModelTask, { description: 'Reading task.' })
  task!: ModelTask;

  @Field({ description: 'Version label, matching models/<task>/<version>/.' })
  version!: string;

  @Field(() => ModelStage, { description: 'Rollout stage.' })
  stage!: ModelStage;

  @Field(() => Float, { description: 'Share of studies routed here while CANARY (0..1).' })
  trafficShare!: number;

  @Field({ description: 'Folder holding model.onnx and model.json.' })
  artifactPath!: string;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the training data manifest.' })
  manifestSha256!: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Evaluation metrics recorded at registration.',
  })
  metrics!: Record<string, unknown> | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When it was last promoted (to CANARY or PRODUCTION, or restored by a rollback).',
  })
  promotedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'Version it was trained from (fine-tuned or retrained).' })
  parentId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Training run that produced it.' })
  trainingRunId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'PRODUCTION version it replaced when promoted; a rollback restores that one.',
  })
  previousProductionId!: string | null;

  @Field({ description: 'When it was registered.' })
  createdAt!: Date;
}

export const ModelVersionConnection = Connection(ModelVersionType, 'ModelVersion');

@InputType({ description: 'Filters for the model registry.' })
export class ModelVersionFilter {
  @Field(() => ModelTask, { nullable: true, description: 'Only this task.' })
  @IsOptional()
  task?: ModelTask;

  @Field(() => ModelStage, { nullable: true, description: 'Only this stage.' })
  @IsOptional()
  stage?: ModelStage;
}

@ObjectType('RegistryActor', { description: 'Who changed the model registry (no contact details).' })
export class RegistryActorType {
  @Field(() => ID, { description: 'User id.' })
  id!: string;

  @Field({ description: 'Name shown in the interface.' })
  displayName!: string;

  @Field(() => Role, { description: 'Role of the user.' })
  role!: Role;
}

@ObjectType('ModelStageChange', { description: 'One stage change of a model version, as recorded.' })
export class ModelStageChangeType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ModelStageChangeKind, { description: 'What caused the change.' })
  kind!: ModelStageChangeKind;

  @Field(() => ModelStage, { description: 'Stage before.' })
  fromStage!: ModelStage;

  @Field(() => ModelStage, { description: 'Stage after.' })
  toStage!: ModelStage;

  @Field(() => Float, { description: 'Canary traffic share after the change (0 outside CANARY).' })
  trafficShare!: number;

  @Field(() => RegistryActorType, {
    nullable: true,
    description: 'Who made the change; null for the start-up repository sync.',
  })
  actor!: RegistryActorType | null;

  @Field({ description: 'When it happened.' })
  createdAt!: Date;
}

@ObjectType('ModelLineage', {
  description:
    'Where a model version came from (ancestors, training run, data, gate) and how it reached its stage.',
})
export class ModelLineageType {
  @Field(() => ModelVersionType, { description: 'The version described.' })
  modelVersion!: ModelVersionType;

  @Field(() => [ModelVersionType], {
    description: 'Versions it descends from: parent first, then its parent, and so on.',
  })
  parents!: ModelVersionType[];

  @Field(() => TrainingRunType, { nullable: true, description: 'The training run that produced it.' })
  trainingRun!: TrainingRunType | null;

  @Field(() => String, { nullable: true, description: 'Code version (git revision) that trained it.' })
  codeVersion!: string | null;

  @Field(() => Float, { nullable: true, description: 'Training duration in seconds.' })
  trainingDurationSeconds!: number | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the training dataset manifest.' })
  datasetManifestSha256!: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Dataset counts per split and label, as the training run recorded them.',
  })
  datasetCounts!: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: "The evaluation gate's verdict and numbers for its training run (null when none ran).",
  })
  gateVerdict!: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Test metrics recorded at registration (AUROC per class, metrics at thresholds, input gate).',
  })
  metrics!: Record<string, unknown> | null;

  @Field(() => RegistryActorType, { nullable: true, description: 'Who last promoted it.' })
  promotedBy!: RegistryActorType | null;

  @Field(() => Date, { nullable: true, description: 'When it was last promoted.' })
  promotedAt!: Date | null;

  @Field(() => [ModelStageChangeType], { description: 'Its stage history, oldest first.' })
  stageChanges!: ModelStageChangeType[];
}

@ObjectType('ModelVersionChange', {
  description: 'A registry event: a model version changed stage or canary share.',
})
export class ModelVersionChangeType {
  @Field(() => ModelStageChangeKind, { description: 'What happened.' })
  kind!: ModelStageChangeKind;

  @Field(() => ModelStage, { nullable: true, description: 'Stage before the change.' })
  fromStage!: ModelStage | null;

  @Field(() => ModelStage, { description: 'Stage after the change.' })
  toStage!: ModelStage;

  @Field(() => ModelVersionType, { description: 'The version as it is now.' })
  modelVersion!: ModelVersionType;
}

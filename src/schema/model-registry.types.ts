import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, ObjectType } from 'type-graphql';
import { ModelStage, ModelStageChangeKind, Role } from './enums';
import { ModelVersionType, TrainingRunType } from './types';

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

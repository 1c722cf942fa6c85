import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { ModelTask, TrainingRunStatus } from '../domain/enums';

@ObjectType('TrainingRun', { description: 'A training run with parameters, lineage and gate verdict.' })
export class TrainingRunType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ModelTask, { description: 'Reading task trained.' })
  task!: ModelTask;

  @Field(() => TrainingRunStatus, { description: 'State of the run.' })
  status!: TrainingRunStatus;

  @Field(() => GraphQLJSONObject, { description: 'Hyper-parameters and options.' })
  parameters!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'Code version (git revision) that trained.' })
  codeVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the dataset manifest.' })
  manifestSha256!: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Counts per split and label.' })
  datasetCounts!: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Evaluation metrics.' })
  metrics!: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Recall gate verdict and its numbers.' })
  gateVerdict!: Record<string, unknown> | null;

  @Field(() => Date, { nullable: true, description: 'When training started.' })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When training finished.' })
  finishedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Failure reason, if it failed.' })
  error!: string | null;

  @Field({ description: 'What started it: MANUAL (an admin), AUTO (new corrections) or CLI.' })
  trigger!: string;

  @Field(() => String, { nullable: true, description: 'Where the trainer ran: local or ray.' })
  runner!: string | null;

  @Field(() => String, { nullable: true, description: 'Version label the candidate gets when registered.' })
  candidateVersion!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Step reached while running: ASSEMBLING, TRAINING, EVALUATING, REGISTERING.',
  })
  phase!: string | null;

  @Field(() => Int, { description: 'Corrections included in the dataset.' })
  correctionsUsed!: number;

  @Field({ description: 'When the run was requested.' })
  createdAt!: Date;
}

export const TrainingRunConnection = Connection(TrainingRunType, 'TrainingRun');

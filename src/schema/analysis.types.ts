import { Field, ID, Int, ObjectType } from 'type-graphql';
import { AnalysisJobStatus } from '../domain/enums';

@ObjectType('StudyFailure', { description: 'Why one study of a batch job failed.' })
export class StudyFailureType {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field({ description: 'Error code, e.g. WRIST_VIEWS_REQUIRED.' })
  code!: string;
}

@ObjectType('StudyResult', { description: 'The prediction one study of a batch job got.' })
export class StudyResultType {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field(() => ID, { description: 'Prediction id.' })
  predictionId!: string;
}

@ObjectType('AnalysisJob', { description: 'A batch of studies submitted for analysis, with its progress.' })
export class AnalysisJobType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => AnalysisJobStatus, { description: 'State of the job.' })
  status!: AnalysisJobStatus;

  @Field(() => [ID], { description: 'Studies in the job.' })
  studyIds!: string[];

  @Field(() => Int, { description: 'Number of studies.' })
  total!: number;

  @Field(() => Int, { description: 'Studies analysed so far.' })
  completed!: number;

  @Field(() => Int, { description: 'Studies that failed.' })
  failed!: number;

  @Field(() => [StudyFailureType], { description: 'Per-study failure codes.' })
  failures!: StudyFailureType[];

  @Field(() => [StudyResultType], {
    description: 'Per-study results: the prediction of each study analysed so far (reused when unchanged).',
  })
  results!: StudyResultType[];

  @Field({ description: 'When the job was submitted.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the last study finished.' })
  finishedAt!: Date | null;
}

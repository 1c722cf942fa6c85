import { IsOptional, Length } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { ModelTask } from '../domain/enums';

@InputType({ description: "A radiologist's correction of a prediction." })
export class SubmitCorrectionInput {
  @Field(() => ID, { description: 'The corrected prediction.' })
  predictionId!: string;

  @Field({
    description:
      'The true label: one of the task classes (chest: NORMAL, PNEUMONIA, TUBERCULOSIS; wrist: NO_FRACTURE, FRACTURE).',
  })
  @Length(1, 64)
  label!: string;

  @Field(() => String, { nullable: true, description: 'Free-text comment (at most 2000 characters).' })
  @IsOptional()
  comment?: string | null;
}

@InputType({ description: 'Which corrections to measure and how to cut the period into windows.' })
export class CorrectionQualityInput {
  @Field(() => Date, { description: 'Inclusive start of the period (correction time).' })
  from!: Date;

  @Field(() => Date, { description: 'Exclusive end of the period.' })
  to!: Date;

  @Field(() => Int, {
    defaultValue: 86400,
    description: 'Window length in seconds (60 to 31622400); windows are aligned to the Unix epoch.',
  })
  bucketSeconds!: number;

  @Field(() => ModelTask, { nullable: true, description: 'Only this task.' })
  @IsOptional()
  task?: ModelTask | null;

  @Field(() => ID, { nullable: true, description: 'Only this model version.' })
  @IsOptional()
  modelVersionId?: string | null;
}

@ObjectType('CorrectionQuality', {
  description:
    'Live quality of one model version in one window, measured against radiologist corrections (latest correction per prediction). ' +
    'Binary: positive = any finding (any label but NORMAL / NO_FRACTURE); predicted positive = the model flagged a finding. ' +
    'Agreement = exact class match. Studies the input gate refused are counted in refused and left out of the rates.',
})
export class CorrectionQualityType {
  @Field(() => ModelTask, { description: 'Reading task.' })
  task!: ModelTask;

  @Field(() => ID, { nullable: true, description: 'Model version that made the corrected predictions.' })
  modelVersionId!: string | null;

  @Field(() => String, { nullable: true, description: 'Its version label.' })
  modelVersion!: string | null;

  @Field({ description: 'Start of the window (inclusive).' })
  windowStart!: Date;

  @Field({ description: 'End of the window (exclusive).' })
  windowEnd!: Date;

  @Field(() => Int, { description: 'Corrections of predictions that had a model label.' })
  n!: number;

  @Field(() => Int, { description: 'Corrections of studies the input gate refused.' })
  refused!: number;

  @Field(() => Int, { description: 'Finding present and flagged.' })
  truePositives!: number;

  @Field(() => Int, { description: 'Finding present, not flagged.' })
  falseNegatives!: number;

  @Field(() => Int, { description: 'No finding, none flagged.' })
  trueNegatives!: number;

  @Field(() => Int, { description: 'No finding, one flagged.' })
  falsePositives!: number;

  @Field(() => Float, { nullable: true, description: 'TP / (TP + FN); null without positives.' })
  recall!: number | null;

  @Field(() => Float, { nullable: true, description: 'TN / (TN + FP); null without negatives.' })
  specificity!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Share of corrections equal to the model label; null when n = 0.',
  })
  agreement!: number | null;
}

@ObjectType('Correction', { description: "A radiologist's correction of a prediction." })
export class CorrectionType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  predictionId!: string;

  @Field({ description: 'The label the radiologist read.' })
  label!: string;

  @Field(() => String, { nullable: true, description: 'Comment from the radiologist.' })
  comment!: string | null;

  @Field(() => ID, { nullable: true, description: 'User who made the correction.' })
  createdById!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The model's label at the time (null when the input gate refused the study).",
  })
  predictedLabel!: string | null;

  @Field(() => ID, { nullable: true, description: 'Model version that made the corrected prediction.' })
  modelVersionId!: string | null;

  @Field(() => Int, { description: 'De-identified copies written to the retraining area.' })
  retrainingCopies!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Why no retraining copy was made (error code), or null.',
  })
  retrainingExcludedReason!: string | null;

  @Field({ description: 'When the correction was made.' })
  createdAt!: Date;
}

export const CorrectionConnection = Connection(CorrectionType, 'Correction');

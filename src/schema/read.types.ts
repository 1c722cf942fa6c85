import { ArrayMaxSize, IsOptional, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ReviewAgreement, ReviewSource, StudyStatus } from '../domain/enums';

@InputType({ description: 'One finding as the radiologist reads it.' })
export class ReadFindingInput {
  @Field({ description: 'Finding label of the task (chest: PNEUMONIA, TUBERCULOSIS; wrist: FRACTURE).' })
  @Length(1, 64)
  label!: string;

  @Field({
    description: 'True when the radiologist sees it, false when not (agreeing or correcting the AI).',
  })
  present!: boolean;
}

@InputType({ description: "The radiologist's final read of a study." })
export class SignFinalReadInput {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field(() => [ReadFindingInput], {
    description: 'Every finding of the task, present or absent (BAD_USER_INPUT when one is missing).',
  })
  @ArrayMaxSize(16)
  findings!: ReadFindingInput[];

  @Field(() => String, { nullable: true, description: 'Conclusion in free text (at most 4000 characters).' })
  @IsOptional()
  @MaxLength(4000)
  conclusion?: string | null;
}

@InputType({ description: 'An amendment of the signed final read.' })
export class AmendFinalReadInput extends SignFinalReadInput {
  @Field({ description: 'Why the read is amended (at most 2000 characters).' })
  @Length(1, 2000)
  reason!: string;
}

@ObjectType('ReadFinding', { description: "One finding of a radiologist's read, compared with the AI." })
export class ReadFindingType {
  @Field({ description: 'Finding label.' })
  label!: string;

  @Field({ description: 'True when the radiologist states it present.' })
  present!: boolean;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether the AI flagged it; null when the AI made no diagnosis.',
  })
  aiFlagged!: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether the radiologist agrees with the AI on it; null when the AI made no diagnosis.',
  })
  agreesWithAi!: boolean | null;
}

@ObjectType('FinalRead', {
  description: "The radiologist's signed read of a study (version 1), or an amendment of it (version 2...).",
})
export class FinalReadType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { description: 'The study read.' })
  studyId!: string;

  @Field(() => ID, { nullable: true, description: 'The AI prediction read beside it, when there was one.' })
  predictionId!: string | null;

  @Field(() => Int, { description: '1 for the final read, 2... for amendments.' })
  version!: number;

  @Field(() => StudyStatus, { description: 'FINAL or AMENDED.' })
  status!: StudyStatus;

  @Field({ description: 'The task class the read amounts to (e.g. NORMAL, PNEUMONIA).' })
  label!: string;

  @Field(() => [ReadFindingType], { description: 'Every finding of the task as the radiologist read it.' })
  findings!: ReadFindingType[];

  @Field(() => ReviewAgreement, { description: 'Agreement with the AI prediction read beside it.' })
  agreement!: ReviewAgreement;

  @Field(() => String, { nullable: true, description: "The radiologist's conclusion." })
  conclusion!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it amends the previous version.' })
  amendmentReason!: string | null;

  @Field(() => ID, { nullable: true, description: 'The radiologist who signed it.' })
  radiologistId!: string | null;

  @Field({ description: 'When it was signed.' })
  signedAt!: Date;
}

@ObjectType('PredictionReview', {
  description: "A radiologist's review of a prediction: the study's signed read, else the latest correction.",
})
export class PredictionReviewType {
  @Field(() => ReviewSource, { description: 'Where the review comes from.' })
  source!: ReviewSource;

  @Field(() => ReviewAgreement, { description: 'Agreement with this prediction.' })
  agreement!: ReviewAgreement;

  @Field({ description: "The radiologist's class." })
  label!: string;

  @Field(() => [ReadFindingType], { description: 'Every finding, compared with this prediction.' })
  findings!: ReadFindingType[];

  @Field(() => ID, { nullable: true, description: 'The final read (source FINAL_READ).' })
  readId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The correction (source CORRECTION).' })
  correctionId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The radiologist.' })
  reviewedById!: string | null;

  @Field({ description: 'When the review was recorded.' })
  reviewedAt!: Date;
}

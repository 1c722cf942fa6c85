import { IsOptional, MaxLength } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { GateVerdict, ImageView, ReadingOutcome } from '../domain/enums';
import { DateRangeInput } from './shared.inputs';

@ObjectType('Finding', { description: 'A condition flagged at the model operating point.' })
export class FindingType {
  @Field({ description: 'Condition label, e.g. PNEUMONIA.' })
  label!: string;

  @Field(() => Float, { description: 'Calibrated probability.' })
  probability!: number;

  @Field(() => Float, { description: 'Operating-point threshold chosen for recall.' })
  threshold!: number;
}

@ObjectType('FindingAssessment', {
  description: 'One finding of the task against its operating point: what decides whether it is flagged.',
})
export class FindingAssessmentType {
  @Field({ description: 'Finding label, e.g. PNEUMONIA.' })
  label!: string;

  @Field(() => Float, { description: 'Calibrated probability of the finding.' })
  probability!: number;

  @Field(() => Float, { description: 'Operating point (recall-first threshold) used by this reading.' })
  threshold!: number;

  @Field({ description: 'True when the probability reached the operating point.' })
  flagged!: boolean;
}

@ObjectType('PredictionInput', {
  description:
    "One image a prediction read, by id and content hash; for models that read each view on its own (wrist v2), also that view's own reading.",
})
export class PredictionInputType {
  @Field(() => ID, { description: 'Image id.' })
  imageId!: string;

  @Field({ description: 'SHA-256 of the file read (hex).' })
  sha256!: string;

  @Field(() => ImageView, { description: 'Projection of the image read.' })
  view!: ImageView;

  // This view's own reading (per-view models only; null otherwise), exposed by PredictionInputResolver
  // field resolvers, which need READ_PREDICTIONS.
  gateVerdict!: GateVerdict | null;

  probability!: number | null;

  flagged!: boolean | null;

  heatmapUrl!: string | null;
}

@ObjectType('ClassProbability', { description: 'Calibrated probability of one class.' })
export class ClassProbabilityType {
  @Field({ description: 'Class label.' })
  label!: string;

  @Field(() => Float, { description: 'Calibrated probability (0..1).' })
  probability!: number;
}

@ObjectType('Prediction', {
  description: 'An AI reading of a study. AI assistance: requires clinician review.',
})
export class PredictionType {
  // Clinical content (outcome, flagged, assessments, label, probabilities, findings, heatmapUrl) is
  // held here by the mapper and exposed by PredictionResolver field resolvers, which need
  // READ_PREDICTIONS: a role that reads the record without it gets FORBIDDEN on those fields alone.
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  studyId!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'Model version that made this reading (see modelVersions and modelLineage).',
  })
  modelVersionId!: string | null;

  @Field(() => String, {
    description:
      "Numeric precision of the graph that made this reading: fp32 (the version's model.onnx) or int8 (its accepted int8 graph, served with ENGINE_PRECISION=int8).",
  })
  graphPrecision!: string;

  @Field(() => GateVerdict, {
    description: 'Input gate verdict; anything but ACCEPTED means no diagnosis was made.',
  })
  gateVerdict!: GateVerdict;

  outcome!: ReadingOutcome | null;

  flagged!: boolean | null;

  assessments!: FindingAssessmentType[] | null;

  label!: string | null;

  probabilities!: ClassProbabilityType[] | null;

  findings!: FindingType[] | null;

  @Field(() => [PredictionInputType], {
    description: 'The images read, by id and SHA-256, in the order the model took them.',
  })
  inputs!: PredictionInputType[];

  @Field(() => ID, {
    nullable: true,
    description: 'The earlier reading of the same study this one re-read (analyzeStudy with reread: true).',
  })
  rereadOfId!: string | null;

  heatmapUrl!: string | null;

  @Field({
    description:
      "True when this reading used an operating point validated on its site's own films (an approved site operating point); false: the model's shipped operating point, not validated at this site.",
  })
  siteValidated!: boolean;

  siteOperatingPointId!: string | null;

  @Field(() => GraphQLJSONObject, {
    description: 'Timings in milliseconds (decode, queue, inference, total).',
  })
  timings!: Record<string, number>;

  @Field({
    description:
      "PRODUCTION, CANARY, SHADOW, or SITE_HOLD (the study's site keeps its previous version: PRODUCTION has not passed the site's rollout gate).",
  })
  route!: string;

  @Field({ description: 'The standing notice that this is AI assistance requiring clinician review.' })
  warning!: string;

  @Field(() => String, { nullable: true, description: 'Plain explanation, e.g. why an input was refused.' })
  explanation!: string | null;

  @Field({ description: 'When the prediction was made.' })
  createdAt!: Date;
}

export const PredictionConnection = Connection(PredictionType, 'Prediction');

@InputType({ description: 'Filters for the predictions list.' })
export class PredictionFilter {
  @Field(() => ID, { nullable: true, description: 'Only this study.' })
  @IsOptional()
  studyId?: string;

  @Field(() => ID, { nullable: true, description: 'Only this patient.' })
  @IsOptional()
  patientId?: string;

  @Field(() => ID, { nullable: true, description: 'Only this model version.' })
  @IsOptional()
  modelVersionId?: string;

  @Field(() => String, { nullable: true, description: 'Only this most-probable label.' })
  @IsOptional()
  @MaxLength(64)
  label?: string;

  @Field(() => GateVerdict, { nullable: true, description: 'Only this gate verdict.' })
  @IsOptional()
  gateVerdict?: GateVerdict;

  @Field(() => DateRangeInput, { nullable: true, description: 'Prediction time.' })
  @IsOptional()
  createdAt?: DateRangeInput;
}

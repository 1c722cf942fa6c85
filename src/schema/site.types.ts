import { ArrayMaxSize, Length } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import {
  GateVerdict,
  ModelTask,
  ReferenceLabelSource,
  SiteEvaluationStatus,
  SiteEvaluationTrigger,
  SiteRolloutGateStatus,
  SiteValidationChange,
  ThresholdSource,
} from '../domain/enums';
import { ModelVersionType } from './model-registry.types';

@ObjectType('Site', {
  description:
    'A hospital or department whose studies the models read. Model operating points are validated per site, on its own labelled films.',
})
export class SiteType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field({ description: 'Short stable code.' })
  code!: string;

  @Field({ description: 'Name shown to users.' })
  name!: string;

  @Field({ description: 'The site of a fresh install; studies registered without a site belong to it.' })
  isDefault!: boolean;

  @Field({ description: 'When it was registered.' })
  createdAt!: Date;
}

@ObjectType('LabelCount', { description: 'How many items carry one label.' })
export class LabelCountType {
  @Field({ description: 'Class label.' })
  label!: string;

  @Field(() => Int, { description: 'Count.' })
  n!: number;
}

@ObjectType('ReferenceSourceCount', {
  description: 'How many labels of a validation set came from one source.',
})
export class ReferenceSourceCountType {
  @Field(() => ReferenceLabelSource, { description: 'Where the labels came from.' })
  source!: ReferenceLabelSource;

  @Field(() => Int, { description: 'Count.' })
  n!: number;
}

@ObjectType('SiteValidationSet', {
  description:
    "A site's labelled studies for one task (imported labels and radiologists' reads), counted; no patient data.",
})
export class SiteValidationSetType {
  @Field(() => ID, { description: 'Site id.' })
  siteId!: string;

  @Field(() => ModelTask, { description: 'Task of the studies.' })
  task!: ModelTask;

  @Field(() => Int, { description: 'Labelled studies.' })
  n!: number;

  @Field(() => Int, { description: 'Distinct patients (the unit resampling groups by).' })
  patients!: number;

  @Field(() => [LabelCountType], { description: 'Studies per reference label.' })
  counts!: LabelCountType[];

  @Field(() => [ReferenceSourceCountType], { description: 'Labels per source.' })
  sources!: ReferenceSourceCountType[];
}

@ObjectType('Estimate', { description: 'A measured rate with its 95% percentile-bootstrap interval.' })
export class EstimateType {
  @Field(() => Float, {
    nullable: true,
    description: 'Point estimate; null when undefined (no positives, say).',
  })
  value!: number | null;

  @Field(() => Float, { nullable: true, description: 'Lower bound of the 95% interval.' })
  lower!: number | null;

  @Field(() => Float, { nullable: true, description: 'Upper bound of the 95% interval.' })
  upper!: number | null;

  @Field(() => Int, { description: 'Items it rests on.' })
  n!: number;
}

@ObjectType('RocPoint', { description: 'One point of a ROC curve.' })
export class RocPointType {
  @Field(() => Float, { description: 'False-positive rate (1 - specificity).' })
  fpr!: number;

  @Field(() => Float, { description: 'True-positive rate (recall).' })
  tpr!: number;

  @Field(() => Float, { description: 'Threshold on the calibrated probability.' })
  threshold!: number;
}

@ObjectType('ReliabilityBin', {
  description:
    'One bin of a reliability curve: mean top-class confidence against how often the top class was right.',
})
export class ReliabilityBinType {
  @Field(() => Int, { description: 'Bin index (tenths of confidence).' })
  bin!: number;

  @Field(() => Float, { description: 'Mean confidence of the bin.' })
  confidence!: number;

  @Field(() => Float, { description: 'Share of the bin whose top class was the reference label.' })
  accuracy!: number;

  @Field(() => Int, { description: 'Studies in the bin.' })
  n!: number;
}

@ObjectType('OperatingPointMeasure', { description: 'Recall and specificity of a finding at one threshold.' })
export class OperatingPointMeasureType {
  @Field(() => Float, { description: 'Threshold on the calibrated probability.' })
  threshold!: number;

  @Field(() => EstimateType, { description: 'Recall on the site positives of the finding.' })
  recall!: EstimateType;

  @Field(() => EstimateType, {
    description: 'Specificity on the site studies without any finding (the negative class).',
  })
  specificity!: EstimateType;

  @Field(() => ThresholdSource, {
    nullable: true,
    description: 'For the site threshold: chosen on the site positives, or the shipped one kept.',
  })
  source!: ThresholdSource | null;
}

@ObjectType('SiteFindingEvaluation', { description: 'How a model version reads one finding on a site.' })
export class SiteFindingEvaluationType {
  @Field({ description: 'Finding label.' })
  label!: string;

  @Field(() => EstimateType, { description: 'AUROC against the negative class.' })
  auroc!: EstimateType;

  @Field(() => OperatingPointMeasureType, {
    description: "At the shipped operating point (model.json's temperature and threshold).",
  })
  shipped!: OperatingPointMeasureType;

  @Field(() => OperatingPointMeasureType, {
    description: 'At the proposed site operating point (measured in-sample).',
  })
  site!: OperatingPointMeasureType;

  @Field(() => [RocPointType], { description: 'The ROC curve (at most about 50 points).' })
  roc!: RocPointType[];
}

@ObjectType('VerdictCount', { description: 'Films the input gate refused with one verdict.' })
export class VerdictCountType {
  @Field(() => GateVerdict, { description: 'Gate verdict.' })
  verdict!: GateVerdict;

  @Field(() => Int, { description: 'Count.' })
  n!: number;
}

@ObjectType('SiteGateRefusals', { description: "The input gate's refusals on the site's films." })
export class SiteGateRefusalsType {
  @Field(() => Int, { description: 'Films refused.' })
  n!: number;

  @Field(() => Float, { description: 'Share of the films read.' })
  rate!: number;

  @Field(() => [VerdictCountType], { description: 'Refusals per verdict.' })
  byVerdict!: VerdictCountType[];
}

@ObjectType('SiteTemperature', {
  description:
    'Calibration temperature: the shipped one, one fitted on half the site patients, and the one used (the site one only where it lowered ECE on the other half).',
})
export class SiteTemperatureType {
  @Field(() => Float, { description: "model.json's temperature." })
  shipped!: number;

  @Field(() => Float, { description: 'Fitted on half the site patients.' })
  site!: number;

  @Field(() => Float, { description: 'The one the site operating point uses.' })
  used!: number;

  @Field(() => Float, { description: 'ECE of the shipped temperature on the held-out half.' })
  eceShipped!: number;

  @Field(() => Float, { description: 'ECE of the site temperature on the held-out half.' })
  eceSite!: number;

  @Field({ description: 'The rule that chose it.' })
  rule!: string;
}

@ObjectType('SiteThreshold', {
  description: "One finding's threshold in a site operating point and its evidence.",
})
export class SiteThresholdType {
  @Field({ description: 'Finding label.' })
  label!: string;

  @Field(() => Float, { description: 'Threshold on the calibrated probability.' })
  value!: number;

  @Field(() => ThresholdSource, { description: 'Chosen on the site positives, or the shipped one kept.' })
  source!: ThresholdSource;

  @Field(() => Float, { description: 'Recall target of the guarantee.' })
  targetRecall!: number;

  @Field(() => Int, { description: 'Site positives of the finding.' })
  nPositives!: number;

  @Field(() => Int, {
    nullable: true,
    description:
      'k of the conformal order statistic (the k-th smallest positive probability); null when shipped.',
  })
  orderStatisticK!: number | null;

  @Field({ description: 'The guarantee in words, or why there is none.' })
  guarantee!: string;

  @Field(() => Int, { description: 'More positives the guarantee needs (0 when it holds).' })
  positivesNeeded!: number;
}

@ObjectType('ProposedOperatingPoint', { description: 'The site operating point an evaluation proposes.' })
export class ProposedOperatingPointType {
  @Field(() => Float, { description: 'Calibration temperature.' })
  temperature!: number;

  @Field(() => [SiteThresholdType], { description: 'Per finding.' })
  thresholds!: SiteThresholdType[];
}

@ObjectType('SkippedStudy', { description: 'A labelled study an evaluation could not read.' })
export class SkippedStudyType {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field({ description: 'Why (an error code such as NO_FILMS, WRIST_VIEWS_REQUIRED).' })
  code!: string;
}

@ObjectType('SiteEvaluation', {
  description:
    "An evaluation of a model version on a site's validation set: AUROC, recall and specificity at the shipped and site operating points with bootstrap intervals, calibration, the input gate's refusals and the counts they rest on.",
})
export class SiteEvaluationType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { description: 'Site id.' })
  siteId!: string;

  @Field(() => ID, { description: 'Model version id.' })
  modelVersionId!: string;

  @Field(() => ModelTask, { description: 'Task.' })
  task!: ModelTask;

  @Field(() => SiteEvaluationStatus, { description: 'Where the job is.' })
  status!: SiteEvaluationStatus;

  @Field(() => SiteEvaluationTrigger, { description: 'Why it ran.' })
  trigger!: SiteEvaluationTrigger;

  @Field(() => Float, {
    nullable: true,
    description: "Recall target asked for; null: each finding's shipped target.",
  })
  targetRecall!: number | null;

  @Field(() => Int, { description: 'Labelled studies read.' })
  n!: number;

  @Field(() => Int, { nullable: true, description: 'Distinct patients read.' })
  patients!: number | null;

  @Field(() => [LabelCountType], { description: 'Studies read per reference label.' })
  counts!: LabelCountType[];

  @Field(() => SiteGateRefusalsType, { nullable: true, description: "The input gate's refusals." })
  gateRefused!: SiteGateRefusalsType | null;

  @Field(() => SiteTemperatureType, { nullable: true, description: 'Calibration temperatures.' })
  temperature!: SiteTemperatureType | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Expected calibration error (top class, 10 bins) at the temperature used.',
  })
  ece!: number | null;

  @Field(() => [ReliabilityBinType], { description: 'Reliability curve at the temperature used.' })
  reliability!: ReliabilityBinType[];

  @Field(() => [SiteFindingEvaluationType], { description: 'Per finding.' })
  findings!: SiteFindingEvaluationType[];

  @Field(() => ProposedOperatingPointType, {
    nullable: true,
    description: 'The site operating point it proposes (approveSiteOperatingPoint makes it the site one).',
  })
  proposedOperatingPoint!: ProposedOperatingPointType | null;

  @Field(() => [SkippedStudyType], { description: 'Labelled studies it could not read (left out).' })
  skipped!: SkippedStudyType[];

  @Field(() => String, { nullable: true, description: 'Why it failed (an error code).' })
  error!: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Ids and counts behind the error.' })
  errorDetails!: Record<string, unknown> | null;

  @Field({ description: 'When it was queued.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When a worker started it.' })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it finished.' })
  finishedAt!: Date | null;
}

@ObjectType('SiteOperatingPoint', {
  description:
    "A site operating point an admin approved for a model version: the temperature and thresholds the site's predictions by that version use.",
})
export class SiteOperatingPointType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { description: 'Site id.' })
  siteId!: string;

  @Field(() => ID, { description: 'Model version id.' })
  modelVersionId!: string;

  @Field(() => ID, { description: 'The evaluation it rests on (see siteValidation).' })
  evaluationId!: string;

  @Field(() => Float, { description: 'Calibration temperature.' })
  temperature!: number;

  @Field(() => [SiteThresholdType], { description: 'Per finding, with its source and guarantee.' })
  thresholds!: SiteThresholdType[];

  @Field(() => ID, { nullable: true, description: 'The admin who approved it.' })
  approvedById!: string | null;

  @Field({ description: 'When it was approved.' })
  approvedAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'When a later approval replaced it; null while in force.',
  })
  supersededAt!: Date | null;
}

@ObjectType('GateFinding', { description: "One finding's comparison in a per-site rollout gate." })
export class GateFindingType {
  @Field({ description: 'Finding label.' })
  label!: string;

  @Field(() => Float, { description: "Recall the site's approved operating point promised (its target)." })
  approvedRecall!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "The candidate's recall on the site's validation set at the operating point it would serve with.",
  })
  candidateRecall!: number | null;

  @Field(() => Int, { description: 'Site positives of the finding.' })
  positives!: number;

  @Field({ description: 'True when the candidate reached the approved recall.' })
  passed!: boolean;
}

@ObjectType('SiteRolloutGate', {
  description:
    'The per-site rollout gate of a version promoted to PRODUCTION: until it passes, the site keeps the version that served it.',
})
export class SiteRolloutGateType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => SiteRolloutGateStatus, { description: 'PENDING, PASSED or FAILED.' })
  status!: SiteRolloutGateStatus;

  @Field(() => ID, { description: 'The promoted version.' })
  candidateId!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The version the site keeps while the gate is not PASSED.',
  })
  fallbackId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The evaluation that decided it.' })
  evaluationId!: string | null;

  @Field(() => [GateFindingType], { description: 'Per finding the site validated.' })
  findings!: GateFindingType[];

  @Field(() => String, {
    nullable: true,
    description: 'Why, beyond the findings (e.g. OPERATING_POINT_APPROVED).',
  })
  reason!: string | null;

  @Field({ description: 'When the gate was opened.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was decided.' })
  decidedAt!: Date | null;
}

@ObjectType('SiteValidation', {
  description:
    'How a model version stands at a site: whether it is validated there (an approved site operating point), the latest evaluation, the rollout gate and the validation set it rests on. Aggregates only: no patient data.',
})
export class SiteValidationType {
  @Field(() => SiteType, { description: 'The site.' })
  site!: SiteType;

  @Field(() => ModelVersionType, { description: 'The model version.' })
  modelVersion!: ModelVersionType;

  @Field({
    description:
      'True when an admin approved a site operating point for this version at this site: its predictions there use it and say siteValidated.',
  })
  validated!: boolean;

  @Field(() => SiteOperatingPointType, {
    nullable: true,
    description: 'The approved site operating point in force.',
  })
  operatingPoint!: SiteOperatingPointType | null;

  @Field(() => SiteEvaluationType, { nullable: true, description: 'The latest evaluation (any status).' })
  latestEvaluation!: SiteEvaluationType | null;

  @Field(() => SiteRolloutGateType, {
    nullable: true,
    description: "The version's rollout gate at this site, if one was opened.",
  })
  rolloutGate!: SiteRolloutGateType | null;

  @Field(() => SiteValidationSetType, { description: "The site's labelled studies of the version's task." })
  validationSet!: SiteValidationSetType;
}

@ObjectType('SiteValidationEvent', { description: "A site's validation status for a model version changed." })
export class SiteValidationEventType {
  @Field(() => SiteValidationChange, { description: 'What changed.' })
  change!: SiteValidationChange;

  @Field(() => ID, { nullable: true, description: 'The evaluation concerned, if any.' })
  evaluationId!: string | null;

  @Field(() => SiteValidationType, { description: 'The status as it is now.' })
  validation!: SiteValidationType;
}

@InputType({ description: 'A site to register.' })
export class CreateSiteInput {
  @Field({
    description: 'Short stable code: lower-case letters, digits and dashes (e.g. st-marys-radiology).',
  })
  @Length(1, 63)
  code!: string;

  @Field({ description: 'Name shown to users.' })
  @Length(1, 200)
  name!: string;
}

@InputType({
  description: "A study already in the system and its reference label for a site's validation set.",
})
export class SiteValidationStudyInput {
  @Field(() => ID, { description: 'Study id (a study of the site, with a film).' })
  studyId!: string;

  @Field({
    description: "Reference class: one of the study's task classes (chest: NORMAL, PNEUMONIA, TUBERCULOSIS).",
  })
  @Length(1, 64)
  label!: string;
}

@InputType({ description: "Labelled studies to add to a site's validation set." })
export class AddSiteValidationStudiesInput {
  @Field(() => ID, { description: 'Site id.' })
  siteId!: string;

  @Field(() => [SiteValidationStudyInput], { description: 'Studies with their labels (at most 5000).' })
  @ArrayMaxSize(5000)
  items!: SiteValidationStudyInput[];
}

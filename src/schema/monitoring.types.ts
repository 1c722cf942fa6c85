import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { DriftAlertStatus, DriftWindowKind, GateVerdict, ModelStage, ModelTask } from '../domain/enums';

@ObjectType('DriftSignalResult', { description: 'One signal of one drift check.' })
export class DriftSignalResultType {
  @Field({
    description:
      'Signal: embedding, confidence, intensity_mean, image_size, predicted_class, intensity_histogram, bit_depth or format.',
  })
  signal!: string;

  @Field({ description: 'Test: MMD2_RBF (permutation p-value), KS, or PSI.' })
  statistic!: string;

  @Field(() => Float, { description: 'Value of the statistic.' })
  value!: number;

  @Field(() => Float, { nullable: true, description: 'p-value where the test gives one.' })
  pValue!: number | null;

  @Field(() => Float, {
    description:
      'Level the p-value is compared with (Bonferroni share of DRIFT_ALPHA), or the PSI threshold.',
  })
  threshold!: number;

  @Field({ description: 'True when the signal crossed its threshold.' })
  drifted!: boolean;
}

@ObjectType('DriftCheck', {
  description: 'One comparison of a production window with a model version’s reference profile.',
})
export class DriftCheckType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { description: 'Model version whose reference was used.' })
  modelVersionId!: string;

  @Field(() => DriftWindowKind, { description: 'How the window was cut.' })
  windowKind!: DriftWindowKind;

  @Field({ description: 'Start of the window.' })
  windowStart!: Date;

  @Field({ description: 'End of the window.' })
  windowEnd!: Date;

  @Field(() => Int, { description: 'Accepted predictions in the window.' })
  windowSize!: number;

  @Field({ description: 'True when any signal drifted.' })
  drifted!: boolean;

  @Field(() => [DriftSignalResultType], { description: 'Per-signal results.' })
  signals!: DriftSignalResultType[];
}

@ObjectType('DriftSettings', { description: 'How drift is tested (from configuration).' })
export class DriftSettingsType {
  @Field({ description: 'Whether drift detection runs.' })
  enabled!: boolean;

  @Field(() => Int, { description: 'Accepted predictions per count window.' })
  windowSize!: number;

  @Field(() => Float, { description: 'Minutes per time window (0: off).' })
  timeWindowMinutes!: number;

  @Field(() => Int, { description: 'Smallest time window that is tested.' })
  minWindowSize!: number;

  @Field(() => Float, {
    description: 'Family-wise false-alarm level of the p-value tests (Bonferroni-shared).',
  })
  alpha!: number;

  @Field(() => Float, { description: 'PSI threshold of the binned signals.' })
  psiThreshold!: number;

  @Field(() => Int, { description: 'Permutations of the embedding MMD test.' })
  permutations!: number;
}

@ObjectType('MonitoredModelVersion', { description: 'A model version as monitoring sees it.' })
export class MonitoredModelVersionType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ModelTask, { description: 'Task it serves.' })
  task!: ModelTask;

  @Field({ description: 'Version name.' })
  version!: string;

  @Field(() => ModelStage, { description: 'Rollout stage.' })
  stage!: ModelStage;

  @Field(() => Float, { description: 'Canary traffic share (0..1).' })
  trafficShare!: number;

  @Field({ description: 'Whether a reference profile exists, so drift is checked.' })
  hasReferenceProfile!: boolean;
}

@ObjectType('ThroughputBucket', { description: 'Predictions recorded in one time bucket and their latency.' })
export class ThroughputBucketType {
  @Field({ description: 'Start of the bucket.' })
  start!: Date;

  @Field(() => Int, { description: 'Predictions recorded (all gate verdicts, shadow reads excluded).' })
  predictions!: number;

  @Field(() => Int, { description: 'Of which the gate refused.' })
  refused!: number;

  @Field(() => Float, { nullable: true, description: 'Median end-to-end analysis time (ms).' })
  p50Ms!: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile end-to-end analysis time (ms).' })
  p95Ms!: number | null;
}

@ObjectType('MonitoredPrediction', {
  description: 'A recent prediction without patient data: what the model said and how fast.',
})
export class MonitoredPredictionType {
  @Field(() => ID, { description: 'Prediction id.' })
  id!: string;

  @Field({ description: 'When it was recorded.' })
  createdAt!: Date;

  @Field(() => String, { nullable: true, description: 'Model version as task/version.' })
  model!: string | null;

  @Field({ description: 'PRODUCTION, CANARY or SHADOW.' })
  route!: string;

  @Field(() => GateVerdict, { description: 'Input gate verdict.' })
  gateVerdict!: GateVerdict;

  @Field(() => String, { nullable: true, description: 'Most probable label (null when refused).' })
  label!: string | null;

  @Field(() => Float, { nullable: true, description: 'End-to-end analysis time (ms).' })
  totalMs!: number | null;
}

@ObjectType('MonitoringOverview', {
  description:
    'What the monitoring dashboard shows besides drift: models, throughput, latency, recent predictions.',
})
export class MonitoringOverviewType {
  @Field(() => [MonitoredModelVersionType], { description: 'Registered model versions and their stages.' })
  modelVersions!: MonitoredModelVersionType[];

  @Field(() => [ThroughputBucketType], { description: 'Per-bucket throughput and latency, oldest first.' })
  throughput!: ThroughputBucketType[];

  @Field(() => Int, { description: 'Bucket width in minutes.' })
  bucketMinutes!: number;

  @Field(() => [MonitoredPredictionType], { description: 'Most recent predictions, newest first.' })
  recentPredictions!: MonitoredPredictionType[];

  @Field(() => DriftSettingsType, { description: 'Drift test settings.' })
  drift!: DriftSettingsType;

  @Field(() => Int, { description: 'Corrections recorded in the period.' })
  corrections!: number;

  @Field({ description: 'AI assistance notice.' })
  warning!: string;
}

@ObjectType('DriftAlert', {
  description: 'A detected shift between production inputs/outputs and the reference.',
})
export class DriftAlertType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { nullable: true, description: 'Model version whose reference was used.' })
  modelVersionId!: string | null;

  @Field({ description: 'Signal that drifted, e.g. embedding, confidence, predicted_class.' })
  signal!: string;

  @Field({ description: 'Test used, e.g. MMD, PSI, KS.' })
  statistic!: string;

  @Field(() => Float, { description: 'Value of the statistic.' })
  value!: number;

  @Field(() => Float, { nullable: true, description: 'p-value where the test gives one.' })
  pValue!: number | null;

  @Field(() => Float, { description: 'Threshold that was crossed.' })
  threshold!: number;

  @Field({ description: 'Start of the window.' })
  windowStart!: Date;

  @Field({ description: 'End of the window.' })
  windowEnd!: Date;

  @Field(() => Int, { description: 'Number of predictions in the window.' })
  windowSize!: number;

  @Field(() => DriftWindowKind, { description: 'How the window was cut.' })
  windowKind!: DriftWindowKind;

  @Field(() => DriftAlertStatus, { description: 'Alert state.' })
  status!: DriftAlertStatus;

  @Field({ description: 'When the alert was raised.' })
  createdAt!: Date;
}

export const DriftAlertConnection = Connection(DriftAlertType, 'DriftAlert');

import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { GateVerdict } from '../enums';
import { AnalysisJob } from '../analysis/analysis-job.entity';
import { ModelVersion } from '../model-version/model-version.entity';
import { SiteOperatingPoint } from '../site/site-operating-point.entity';
import { Study } from '../study/study.entity';
import type { StoredCam } from './stored-cam';
import { PredictionRepository } from './prediction.repository';

/** A finding flagged at the model's operating point. */
export interface Finding {
  label: string;
  probability: number;
  threshold: number;
}

/** One image a prediction read: which, by id and content hash, in the order the model took them. */
export interface PredictionInput {
  imageId: string;
  sha256: string;
  view: string;
  /** Models that read each view on its own (wrist v2): this view's gate verdict. */
  gateVerdict?: GateVerdict;
  /** …its calibrated probability of the finding (null when the gate refused it). */
  probability?: number | null;
  /** …whether it reached the per-view operating point (null when refused). */
  flagged?: boolean | null;
  /** …and the object-store key of its heatmap (readings stored before CAMs were kept). */
  heatmapKey?: string | null;
  /** …and the raw CAM its heatmap is drawn from (null when refused). */
  cam?: StoredCam | null;
}

/** An AI reading of one study by one model version. Always AI assistance requiring clinician review. */
@Entity({ repository: () => PredictionRepository })
@Index({ properties: ['createdAt', 'id'] })
// a study's newest reading (every analysis reads it) without sorting its readings
@Index({ properties: ['study', 'createdAt', 'id'] })
export class Prediction extends BaseEntity {
  [EntityRepositoryType]?: PredictionRepository;

  @ManyToOne(() => Study, { deleteRule: 'cascade' })
  study!: Study;

  @ManyToOne(() => ModelVersion, { nullable: true, deleteRule: 'set null' })
  @Index()
  modelVersion?: ModelVersion | null;

  @Enum({ items: () => GateVerdict })
  gateVerdict!: GateVerdict;

  /** Most probable label, or null when the gate refused the input. */
  @Property({ type: 'text', nullable: true })
  @Index()
  label?: string | null;

  @Property({ type: 'jsonb' })
  probabilities: Record<string, number> = {};

  @Property({ type: 'jsonb' })
  findings: Finding[] = [];

  /**
   * Object-store key of the rendered heatmap (overlay; the bare map beside it): set the first time the
   * heatmap is asked for, or at analysis for readings stored before CAMs were kept.
   */
  @Property({ type: 'text', nullable: true })
  heatmapKey?: string | null;

  /** The raw class-activation map the heatmap is rendered from (null when the gate refused the film). */
  @Property({ type: 'jsonb', nullable: true, lazy: false })
  cam?: StoredCam | null;

  @Property({ type: 'jsonb' })
  timings: Record<string, number> = {};

  /** The graph that made the reading: `fp32` (model.onnx) or `int8` (the version's accepted int8 graph). */
  @Property({ type: 'text', default: 'fp32' })
  graphPrecision: string = 'fp32';

  /** PRODUCTION, CANARY or SHADOW: how the study reached this model version. */
  @Property({ type: 'text', default: 'PRODUCTION' })
  route: string = 'PRODUCTION';

  @Property({ type: 'text' })
  warning!: string;

  @Property({ type: 'text', nullable: true })
  explanation?: string | null;

  /** The images read, by id and SHA-256 (what makes a reading reproducible and re-reads detectable). */
  @Property({ type: 'jsonb', default: '[]' })
  inputs: PredictionInput[] = [];

  /** Operating point of every finding at the time of reading (label → threshold). */
  @Property({ type: 'jsonb', default: '{}' })
  thresholds: Record<string, number> = {};

  /**
   * The site operating point (approved for this version at the study's site) whose temperature and
   * thresholds this reading used; null when it used the shipped ones.
   */
  @ManyToOne(() => SiteOperatingPoint, { nullable: true, deleteRule: 'set null' })
  siteOperatingPoint?: SiteOperatingPoint | null;

  /** True when this reading used an operating point validated on its site's own films. */
  @Property({ type: 'boolean', default: false })
  siteValidated: boolean = false;

  /** The earlier served reading of the same study this one re-read, if any. */
  @ManyToOne(() => Prediction, { nullable: true, deleteRule: 'set null' })
  rereadOf?: Prediction | null;

  /** The batch job that produced it, if any (makes job retries idempotent). */
  @ManyToOne(() => AnalysisJob, { nullable: true, deleteRule: 'set null' })
  @Index()
  analysisJob?: AnalysisJob | null;
}

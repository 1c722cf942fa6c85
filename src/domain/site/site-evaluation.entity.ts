import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import type {
  SiteEvaluation as SiteEvaluationResult,
  SiteOperatingPoint,
} from '../../training/site-calibration';
import { BaseEntity } from '../base.entity';
import { ModelTask, SiteEvaluationStatus, SiteEvaluationTrigger } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { User } from '../user/user.entity';
import { Site } from './site.entity';
import { SiteEvaluationRepository } from './site-evaluation.repository';

/**
 * One evaluation of a model version on a site's validation set (a durable job): the measurements
 * (`result`: AUROC, recall and specificity at the shipped and site operating points with bootstrap
 * intervals, calibration, gate refusals, counts) and the site operating point they propose.
 */
@Entity({ repository: () => SiteEvaluationRepository })
@Index({ properties: ['site', 'modelVersion', 'createdAt'] })
export class SiteEvaluation extends BaseEntity {
  [EntityRepositoryType]?: SiteEvaluationRepository;

  @ManyToOne(() => Site, { deleteRule: 'cascade' })
  site!: Site;

  @ManyToOne(() => ModelVersion, { deleteRule: 'cascade' })
  modelVersion!: ModelVersion;

  @Enum({ items: () => ModelTask })
  task!: ModelTask;

  @Enum({ items: () => SiteEvaluationStatus })
  status: SiteEvaluationStatus = SiteEvaluationStatus.QUEUED;

  @Enum({ items: () => SiteEvaluationTrigger })
  trigger!: SiteEvaluationTrigger;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  requestedBy?: User | null;

  /** Recall target of every finding; null: each finding's shipped target (model.json). */
  @Property({ type: 'double precision', nullable: true })
  targetRecall?: number | null;

  /** Labelled studies read. */
  @Property({ type: 'int', default: 0 })
  nItems: number = 0;

  /** The measurements (src/training/site-calibration.ts `SiteEvaluation`). */
  @Property({ type: 'jsonb', nullable: true })
  result?: SiteEvaluationResult | null;

  /** The site operating point the measurements propose (approved separately by an admin). */
  @Property({ type: 'jsonb', nullable: true })
  operatingPoint?: SiteOperatingPoint | null;

  /** Labelled studies that could not be read (left out of the measurements), with the reason's code. */
  @Property({ type: 'jsonb', default: '[]' })
  skipped: { studyId: string; code: string }[] = [];

  /** Why it failed: an error code (e.g. SITE_LABELS_INVALID, NO_FILMS). */
  @Property({ type: 'text', nullable: true })
  error?: string | null;

  /** Ids and counts behind the error (never PHI). */
  @Property({ type: 'jsonb', nullable: true })
  errorDetails?: Record<string, unknown> | null;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt?: Date | null;
}

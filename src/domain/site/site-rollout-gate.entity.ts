import { Entity, EntityRepositoryType, Enum, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelTask, SiteRolloutGateStatus } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { SiteEvaluation } from './site-evaluation.entity';
import { Site } from './site.entity';
import { SiteRolloutGateRepository } from './site-rollout-gate.repository';

/** One finding's comparison in a rollout gate decision. */
export interface GateFinding {
  label: string;
  /** Recall the site's approved operating point promised (its target). */
  approvedRecall: number;
  /** The candidate's recall on the site's validation set at the operating point it would serve with. */
  candidateRecall: number | null;
  /** Positives of the finding in the site's validation set. */
  positives: number;
  passed: boolean;
}

/**
 * The per-site rollout gate of a version promoted to PRODUCTION at a site with an approved operating
 * point: until it passes, the site's studies are read by the version that served the site before
 * (`fallback`); a candidate that falls below the site's approved recall never serves there.
 */
@Entity({ repository: () => SiteRolloutGateRepository })
@Unique({ properties: ['site', 'candidate'] })
export class SiteRolloutGate extends BaseEntity {
  [EntityRepositoryType]?: SiteRolloutGateRepository;

  @ManyToOne(() => Site, { deleteRule: 'cascade' })
  site!: Site;

  @Enum({ items: () => ModelTask })
  task!: ModelTask;

  /** The version promoted to PRODUCTION. */
  @ManyToOne(() => ModelVersion, { deleteRule: 'cascade' })
  candidate!: ModelVersion;

  /** The version that keeps serving the site while the gate is not PASSED. */
  @ManyToOne(() => ModelVersion, { nullable: true, deleteRule: 'set null' })
  fallback?: ModelVersion | null;

  @Enum({ items: () => SiteRolloutGateStatus })
  status: SiteRolloutGateStatus = SiteRolloutGateStatus.PENDING;

  /** The evaluation that decided it (null while pending, or when an approval decided it). */
  @ManyToOne(() => SiteEvaluation, { nullable: true, deleteRule: 'set null' })
  evaluation?: SiteEvaluation | null;

  /** Per finding the site validated: approved recall against the candidate's. */
  @Property({ type: 'jsonb', nullable: true })
  findings?: GateFinding[] | null;

  /** Why it failed beyond the findings (e.g. the evaluation's error code). */
  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  decidedAt?: Date | null;
}

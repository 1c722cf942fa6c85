import { Entity, EntityRepositoryType, Index, ManyToOne, Property } from '@mikro-orm/core';
import type { SiteThreshold } from '../../training/site-calibration';
import { BaseEntity } from '../base.entity';
import { ModelVersion } from '../model-version/model-version.entity';
import { User } from '../user/user.entity';
import { SiteEvaluation } from './site-evaluation.entity';
import { Site } from './site.entity';
import { SiteOperatingPointRepository } from './site-operating-point.repository';

/**
 * A site operating point an admin approved for a model version: the temperature and thresholds the
 * site's predictions by that version use, and the evaluation they rest on. At most one is in force per
 * site and version (a later approval supersedes it; the old row stays as history).
 */
@Entity({ repository: () => SiteOperatingPointRepository })
@Index({
  name: 'site_operating_point_one_in_force',
  expression: `create unique index "site_operating_point_one_in_force" on "site_operating_point" ("site_id", "model_version_id") where "superseded_at" is null`,
})
export class SiteOperatingPoint extends BaseEntity {
  [EntityRepositoryType]?: SiteOperatingPointRepository;

  @ManyToOne(() => Site, { deleteRule: 'cascade' })
  site!: Site;

  @ManyToOne(() => ModelVersion, { deleteRule: 'cascade' })
  modelVersion!: ModelVersion;

  @ManyToOne(() => SiteEvaluation, { deleteRule: 'cascade' })
  evaluation!: SiteEvaluation;

  @Property({ type: 'double precision' })
  temperature!: number;

  /** Per finding: the threshold, whether the site's positives chose it, and its guarantee. */
  @Property({ type: 'jsonb' })
  thresholds!: Record<string, SiteThreshold>;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  approvedBy?: User | null;

  /** When a later approval replaced it; null while in force. */
  @Property({ type: 'timestamptz', nullable: true })
  supersededAt?: Date | null;
}

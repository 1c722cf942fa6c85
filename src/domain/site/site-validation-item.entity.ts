import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelTask, ReferenceLabelSource } from '../enums';
import { Study } from '../study/study.entity';
import { User } from '../user/user.entity';
import { Site } from './site.entity';
import { SiteValidationItemRepository } from './site-validation-item.repository';

/**
 * One labelled study of a site's validation set: the reference label a site evaluation measures a model
 * against, who gave it and how. Grouped by the study's patient when resampled. The radiologist's read
 * of a study replaces an earlier label of it (the read is the truth from then on).
 */
@Entity({ repository: () => SiteValidationItemRepository })
@Unique({ properties: ['site', 'study'] })
@Index({ properties: ['site', 'task'] })
export class SiteValidationItem extends BaseEntity {
  [EntityRepositoryType]?: SiteValidationItemRepository;

  @ManyToOne(() => Site, { deleteRule: 'cascade' })
  site!: Site;

  @ManyToOne(() => Study, { deleteRule: 'cascade' })
  study!: Study;

  @Enum({ items: () => ModelTask })
  task!: ModelTask;

  /** The reference class (one of the task's classes). */
  @Property({ type: 'text' })
  label!: string;

  @Enum({ items: () => ReferenceLabelSource })
  source!: ReferenceLabelSource;

  /** Who gave the label (the importer, or the radiologist whose read it is). */
  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  labelledBy?: User | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

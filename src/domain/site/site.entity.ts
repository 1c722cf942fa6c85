import { Entity, EntityRepositoryType, Index, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { SiteRepository } from './site.repository';

/**
 * Id of the site every install starts with (made by the migration that introduced sites): studies
 * registered without a site belong to it, and the `study.site_id` column defaults to it.
 */
export const DEFAULT_SITE_ID = '00000000-0000-4000-8000-000000000001';

/**
 * A hospital or department whose studies the models read. A model's operating point is validated per
 * site, on the site's own labelled films (its validation set).
 */
@Entity({ repository: () => SiteRepository })
@Index({
  name: 'site_one_default',
  expression: `create unique index "site_one_default" on "site" ("is_default") where "is_default"`,
})
export class Site extends BaseEntity {
  [EntityRepositoryType]?: SiteRepository;

  /** Short stable code (`default`, `st-marys-radiology`). */
  @Property({ type: 'text' })
  @Unique()
  code!: string;

  @Property({ type: 'text' })
  name!: string;

  /** The site of a fresh install; studies registered without a site belong to it. */
  @Property({ type: 'boolean', default: false })
  isDefault: boolean = false;
}

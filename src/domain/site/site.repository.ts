import { EntityRepository } from '@mikro-orm/postgresql';
import type { Site } from './site.entity';

/** Reads of sites. */
export class SiteRepository extends EntityRepository<Site> {
  /** Every site, the default first, then by code. */
  findAllDefaultFirst(): Promise<Site[]> {
    return this.findAll({ orderBy: { isDefault: 'desc', code: 'asc' } });
  }
}

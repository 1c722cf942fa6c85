import { EntityRepository } from '@mikro-orm/postgresql';
import type { SiteOperatingPoint } from './site-operating-point.entity';

/** Reads of sites' operating points. */
export class SiteOperatingPointRepository extends EntityRepository<SiteOperatingPoint> {
  /** The operating points with these ids (any order; missing ones left out). */
  findByIds(ids: readonly string[]): Promise<SiteOperatingPoint[]> {
    return this.find({ id: { $in: [...ids] } });
  }
}

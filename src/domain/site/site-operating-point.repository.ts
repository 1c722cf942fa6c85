import { EntityRepository } from '@mikro-orm/postgresql';
import type { ModelTask } from '../enums';
import type { SiteOperatingPoint } from './site-operating-point.entity';

/** Reads of sites' operating points. */
export class SiteOperatingPointRepository extends EntityRepository<SiteOperatingPoint> {
  /** The operating points with these ids (any order; missing ones left out). */
  findByIds(ids: readonly string[]): Promise<SiteOperatingPoint[]> {
    return this.find({ id: { $in: [...ids] } });
  }

  /** The point in force for a version at a site, or null. */
  findInForce(siteId: string, modelVersionId: string): Promise<SiteOperatingPoint | null> {
    return this.findOne({ site: siteId, modelVersion: modelVersionId, supersededAt: null });
  }

  /** The points in force at a site for any version of a task, newest first. */
  findInForceAtSite(siteId: string, task: ModelTask): Promise<SiteOperatingPoint[]> {
    return this.find(
      { site: siteId, supersededAt: null, modelVersion: { task } },
      { orderBy: { createdAt: 'desc' } },
    );
  }

  /** The points in force at every site for any version of a task, with version and evaluation, newest first. */
  findInForceOfTask(task: ModelTask): Promise<SiteOperatingPoint[]> {
    return this.find(
      { supersededAt: null, modelVersion: { task } },
      { populate: ['modelVersion', 'evaluation'], orderBy: { createdAt: 'desc' } },
    );
  }
}

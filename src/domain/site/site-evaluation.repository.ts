import { EntityRepository } from '@mikro-orm/postgresql';
import type { SiteEvaluation } from './site-evaluation.entity';

/** Reads of site evaluations. */
export class SiteEvaluationRepository extends EntityRepository<SiteEvaluation> {
  /** One evaluation with its site and model version, or null. */
  findWithSiteAndVersion(id: string): Promise<SiteEvaluation | null> {
    return this.findOne({ id }, { populate: ['modelVersion', 'site'] });
  }

  /** The latest evaluation of a version at a site, or null. */
  findLatest(siteId: string, modelVersionId: string): Promise<SiteEvaluation | null> {
    return this.findOne(
      { site: siteId, modelVersion: modelVersionId },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
  }
}

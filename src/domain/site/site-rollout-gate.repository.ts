import { EntityRepository } from '@mikro-orm/postgresql';
import { ModelStage, SiteRolloutGateStatus } from '../enums';
import type { SiteRolloutGate } from './site-rollout-gate.entity';

/** Reads of per-site rollout gates. */
export class SiteRolloutGateRepository extends EntityRepository<SiteRolloutGate> {
  /** The gate of a candidate at a site, whatever its status, or null. */
  findOfCandidate(siteId: string, candidateId: string): Promise<SiteRolloutGate | null> {
    return this.findOne({ site: siteId, candidate: candidateId });
  }

  /** The gate of a candidate at a site that has not passed (pending, or failed), with its fallback; or null. */
  findOpen(siteId: string, candidateId: string): Promise<SiteRolloutGate | null> {
    return this.findOne(
      { site: siteId, candidate: candidateId, status: { $ne: SiteRolloutGateStatus.PASSED } },
      { populate: ['fallback'] },
    );
  }

  /** Gates of PRODUCTION versions that have not passed and hold a site on a fallback, with the fallback. */
  findHoldingProduction(): Promise<SiteRolloutGate[]> {
    return this.find(
      {
        status: { $ne: SiteRolloutGateStatus.PASSED },
        candidate: { stage: ModelStage.PRODUCTION },
        fallback: { $ne: null },
      },
      { populate: ['fallback'] },
    );
  }
}

/**
 * What the reading path asks of sites: which approved operating point a version uses at a site, and
 * which version a site is held on while the PRODUCTION version has not passed its rollout gate there.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { ModelStage, SiteRolloutGateStatus } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import type { Study } from '../study/study.entity';
import { SiteOperatingPoint } from './site-operating-point.entity';
import { SiteRolloutGate } from './site-rollout-gate.entity';
import { DEFAULT_SITE_ID } from './site.entity';

/** The site a study belongs to (a study registered without one, or not reloaded since, is the default site's). */
export function siteIdOf(study: Pick<Study, 'site'>): string {
  return study.site?.id ?? DEFAULT_SITE_ID;
}

/** The operating point approved for a version at a site and in force, or null (the shipped one applies). */
export function operatingPointInForce(
  em: EntityManager,
  siteId: string,
  modelVersionId: string,
): Promise<SiteOperatingPoint | null> {
  return em.findOne(SiteOperatingPoint, {
    site: siteId,
    modelVersion: modelVersionId,
    supersededAt: null,
  });
}

/**
 * The version a site keeps while `production` has not passed the site's rollout gate (pending or
 * failed); null when production serves the site.
 */
export async function heldVersion(
  em: EntityManager,
  siteId: string,
  production: ModelVersion,
): Promise<ModelVersion | null> {
  const gate = await em.findOne(
    SiteRolloutGate,
    { site: siteId, candidate: production.id, status: { $ne: SiteRolloutGateStatus.PASSED } },
    { populate: ['fallback'] },
  );
  return gate?.fallback ?? null;
}

/**
 * Versions some site is held on (gates of the PRODUCTION version that have not passed): they must stay
 * loaded beside PRODUCTION and CANARY.
 */
export async function heldVersions(em: EntityManager): Promise<ModelVersion[]> {
  const gates = await em.find(
    SiteRolloutGate,
    {
      status: { $ne: SiteRolloutGateStatus.PASSED },
      candidate: { stage: ModelStage.PRODUCTION },
      fallback: { $ne: null },
    },
    { populate: ['fallback'] },
  );
  const byId = new Map(gates.map((g) => [g.fallback!.id, g.fallback!]));
  return [...byId.values()].filter((v): v is ModelVersion => v instanceof ModelVersion);
}

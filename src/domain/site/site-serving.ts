/**
 * What serving asks of sites: the site a study belongs to and the versions sites are held on. The reading
 * path reads a study's operating points and held version with the study itself (analysis.repository.ts).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { ModelVersion } from '../model-version/model-version.entity';
import type { Study } from '../study/study.entity';
import { SiteRolloutGate } from './site-rollout-gate.entity';
import { DEFAULT_SITE_ID } from './site.entity';

/** The site a study belongs to (a study registered without one, or not reloaded since, is the default site's). */
export function siteIdOf(study: Pick<Study, 'site'>): string {
  return study.site?.id ?? DEFAULT_SITE_ID;
}

/**
 * Versions some site is held on (gates of the PRODUCTION version that have not passed): they must stay
 * loaded beside PRODUCTION and CANARY.
 */
export async function heldVersions(em: EntityManager): Promise<ModelVersion[]> {
  const gates = await em.getRepository(SiteRolloutGate).findHoldingProduction();
  const byId = new Map(gates.map((g) => [g.fallback!.id, g.fallback!]));
  return [...byId.values()].filter((v): v is ModelVersion => v instanceof ModelVersion);
}

import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ModelStage, ModelTask } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { heldVersion } from '../site/site-serving';

/** Which version(s) read a study. */
export interface Route {
  primary: ModelVersion;
  /**
   * SITE_HOLD: the study's site keeps the version that served it before, because the PRODUCTION version
   * has not passed the site's rollout gate (it is being evaluated there, or fell below the site's
   * approved recall).
   */
  route: 'PRODUCTION' | 'CANARY' | 'SITE_HOLD';
  /** In shadow mode, the other version also runs; its prediction is recorded, never returned. */
  shadow: ModelVersion | null;
}

/** Stable share in [0,1) for a study id, so a study always takes the same path for a given share. */
export function studyShare(studyId: string): number {
  return createHash('sha256').update(studyId).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Canary and shadow routing by model version: a study goes to the CANARY version when its stable
 * share falls below the canary's traffic share, otherwise to PRODUCTION. In shadow mode the canary
 * runs beside production on every study and only production's answer is returned. A study of a site
 * where PRODUCTION has not passed the site's rollout gate is read by the version the site keeps
 * (SITE_HOLD) instead of PRODUCTION.
 */
export async function chooseRoute(
  em: EntityManager,
  task: ModelTask,
  studyId: string,
  shadowMode: boolean,
  siteId?: string,
): Promise<Route | null> {
  const route = await routeByRegistry(em, task, studyId, shadowMode);
  if (!route || route.route !== 'PRODUCTION' || !siteId) return route;
  const held = await heldVersion(em, siteId, route.primary);
  return held ? { ...route, primary: held, route: 'SITE_HOLD' } : route;
}

async function routeByRegistry(
  em: EntityManager,
  task: ModelTask,
  studyId: string,
  shadowMode: boolean,
): Promise<Route | null> {
  const versions = await em.find(
    ModelVersion,
    { task, stage: { $in: [ModelStage.PRODUCTION, ModelStage.CANARY] } },
    { orderBy: { promotedAt: 'desc', createdAt: 'desc' } },
  );
  const production = versions.find((v) => v.stage === ModelStage.PRODUCTION) ?? null;
  const canary = versions.find((v) => v.stage === ModelStage.CANARY) ?? null;
  if (!production) return canary ? { primary: canary, route: 'CANARY', shadow: null } : null;
  if (!canary) return { primary: production, route: 'PRODUCTION', shadow: null };
  if (shadowMode) return { primary: production, route: 'PRODUCTION', shadow: canary };
  return studyShare(studyId) < canary.trafficShare
    ? { primary: canary, route: 'CANARY', shadow: null }
    : { primary: production, route: 'PRODUCTION', shadow: null };
}

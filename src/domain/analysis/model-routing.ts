import { createHash } from 'node:crypto';
import { ModelStage } from '../enums';
import type { ModelVersion } from '../model-version/model-version.entity';

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
 * (SITE_HOLD) instead of PRODUCTION. Pure: `versions` are the task's PRODUCTION and CANARY versions
 * (newest promotion first) and `heldBy` the versions the study's site keeps, by candidate id.
 */
export function chooseRoute(
  versions: readonly ModelVersion[],
  studyId: string,
  shadowMode: boolean,
  heldBy: ReadonlyMap<string, ModelVersion> = new Map(),
): Route | null {
  const route = routeByRegistry(versions, studyId, shadowMode);
  if (!route || route.route !== 'PRODUCTION') return route;
  const held = heldBy.get(route.primary.id);
  return held ? { ...route, primary: held, route: 'SITE_HOLD' } : route;
}

function routeByRegistry(
  versions: readonly ModelVersion[],
  studyId: string,
  shadowMode: boolean,
): Route | null {
  const production = versions.find((v) => v.stage === ModelStage.PRODUCTION) ?? null;
  const canary = versions.find((v) => v.stage === ModelStage.CANARY) ?? null;
  if (!production) return canary ? { primary: canary, route: 'CANARY', shadow: null } : null;
  if (!canary) return { primary: production, route: 'PRODUCTION', shadow: null };
  if (shadowMode) return { primary: production, route: 'PRODUCTION', shadow: canary };
  return studyShare(studyId) < canary.trafficShare
    ? { primary: canary, route: 'CANARY', shadow: null }
    : { primary: production, route: 'PRODUCTION', shadow: null };
}

import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { byId } from '../shared/batch';
import { SiteOperatingPoint } from './site-operating-point.entity';

/** Per-request batch loaders of site records. */
export interface SiteLoaders {
  /** A site operating point by id (the one a prediction used). */
  siteOperatingPointById: DataLoader<string, SiteOperatingPoint | null>;
}

/** Creates the site loaders over one request's EntityManager. */
export function createSiteLoaders(em: EntityManager): SiteLoaders {
  return {
    siteOperatingPointById: new DataLoader(async (ids) =>
      byId(await em.getRepository(SiteOperatingPoint).findByIds(ids), ids),
    ),
  };
}

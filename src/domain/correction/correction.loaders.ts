import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Correction } from './correction.entity';

/** Per-request batch loaders of corrections. */
export interface CorrectionLoaders {
  /** The latest correction of a prediction, or null. */
  correctionByPredictionId: DataLoader<string, Correction | null>;
}

/** Creates the correction loaders over one request's EntityManager. */
export function createCorrectionLoaders(em: EntityManager): CorrectionLoaders {
  return {
    correctionByPredictionId: new DataLoader(async (ids) => {
      const latest = await em.getRepository(Correction).findLatestByPredictions(ids);
      return ids.map((id) => latest.get(id) ?? null);
    }),
  };
}

import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { groupBy } from '../shared/batch';
import { Prediction } from './prediction.entity';

/** Per-request batch loaders of predictions. */
export interface PredictionLoaders {
  /** A study's predictions, newest first. */
  predictionsByStudyId: DataLoader<string, Prediction[]>;
}

/** Creates the prediction loaders over one request's EntityManager. */
export function createPredictionLoaders(em: EntityManager): PredictionLoaders {
  return {
    predictionsByStudyId: new DataLoader(async (ids) =>
      groupBy(await em.getRepository(Prediction).findOfStudies(ids), ids, (p) => p.study.id),
    ),
  };
}

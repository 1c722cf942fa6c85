import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { byId } from '../shared/batch';
import { Study } from './study.entity';

/** Per-request batch loaders of studies. */
export interface StudyLoaders {
  studyById: DataLoader<string, Study | null>;
}

/** Creates the study loaders over one request's EntityManager. */
export function createStudyLoaders(em: EntityManager): StudyLoaders {
  return {
    studyById: new DataLoader(async (ids) => byId(await em.getRepository(Study).findByIds(ids), ids)),
  };
}

import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { StudyRead } from './study-read.entity';

/** Per-request batch loaders of radiologists' reads. */
export interface ReadLoaders {
  /** The radiologist's read in force of a study (highest version), or null. */
  readByStudyId: DataLoader<string, StudyRead | null>;
}

/** Creates the read loaders over one request's EntityManager. */
export function createReadLoaders(em: EntityManager): ReadLoaders {
  return {
    readByStudyId: new DataLoader(async (ids) => {
      const inForce = await em.getRepository(StudyRead).findInForceByStudies(ids);
      return ids.map((id) => inForce.get(id) ?? null);
    }),
  };
}

import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { groupBy } from '../shared/batch';
import { Image } from './image.entity';

/** Per-request batch loaders of images. */
export interface ImageLoaders {
  /** A study's images, oldest first. */
  imagesByStudyId: DataLoader<string, Image[]>;
}

/** Creates the image loaders over one request's EntityManager. */
export function createImageLoaders(em: EntityManager): ImageLoaders {
  return {
    imagesByStudyId: new DataLoader(async (ids) =>
      groupBy(await em.getRepository(Image).findOfStudies(ids), ids, (i) => i.study.id),
    ),
  };
}

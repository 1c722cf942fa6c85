import { EntityRepository } from '@mikro-orm/postgresql';
import type { Image } from './image.entity';

/** Reads of images. */
export class ImageRepository extends EntityRepository<Image> {
  /** The images of several studies, oldest first (one loader batch). */
  findOfStudies(studyIds: readonly string[]): Promise<Image[]> {
    return this.find({ study: { $in: [...studyIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }
}

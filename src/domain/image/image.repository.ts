import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { ImageView } from '../enums';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { Image } from './image.entity';

/** Reads of images. */
export class ImageRepository extends EntityRepository<Image> {
  /** The images of several studies, oldest first (one loader batch). */
  findOfStudies(studyIds: readonly string[]): Promise<Image[]> {
    return this.find({ study: { $in: [...studyIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** Which of these studies have at least one image. */
  async studiesWithImages(studyIds: string[]): Promise<Set<string>> {
    const rows: { study_id: string }[] = await this.getKnex()('image')
      .distinct('study_id')
      .whereIn('study_id', studyIds);
    return new Set(rows.map((r) => r.study_id));
  }

  /** A page of images newest first, of one study and view when named. */
  findPage(
    f: { studyId?: string | null; view?: ImageView | null },
    page: PageArgs,
    pageMax: number,
  ): Promise<Page<Image>> {
    const where = compact({ study: f.studyId, view: f.view }) as FilterQuery<Image>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }

  /** One image with its study, or null. */
  findWithStudy(id: string): Promise<Image | null> {
    return this.findOne({ id }, { populate: ['study'] });
  }

  /** How many images use a stored object. */
  countByObjectKey(objectKey: string): Promise<number> {
    return this.count({ objectKey });
  }

  /** The images of one study, oldest first. */
  findOfStudy(studyId: string): Promise<Image[]> {
    return this.find({ study: studyId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** How many images a study has. */
  countOfStudy(studyId: string): Promise<number> {
    return this.count({ study: studyId });
  }
}

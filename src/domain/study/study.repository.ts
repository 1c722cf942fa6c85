import { EntityRepository } from '@mikro-orm/postgresql';
import type { Study } from './study.entity';

/** Reads of studies. */
export class StudyRepository extends EntityRepository<Study> {
  /** The studies with these ids (any order; missing ones left out). */
  findByIds(ids: readonly string[]): Promise<Study[]> {
    return this.find({ id: { $in: [...ids] } });
  }
}

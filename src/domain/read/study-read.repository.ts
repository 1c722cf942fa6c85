import { EntityRepository } from '@mikro-orm/postgresql';
import type { StudyRead } from './study-read.entity';

/** Reads of radiologists' signed reads. */
export class StudyReadRepository extends EntityRepository<StudyRead> {
  /** The read in force of each study (highest version), with its radiologist and prediction, by study id. */
  async findInForceByStudies(studyIds: readonly string[]): Promise<Map<string, StudyRead>> {
    if (studyIds.length === 0) return new Map();
    const rows = await this.find(
      { study: { $in: [...studyIds] } },
      { orderBy: { version: 'desc' }, populate: ['radiologist', 'prediction'] },
    );
    const map = new Map<string, StudyRead>();
    for (const r of rows) if (!map.has(r.study.id)) map.set(r.study.id, r);
    return map;
  }

  /** The latest read of a study (highest version), or null. */
  findLatestOfStudy(studyId: string): Promise<StudyRead | null> {
    return this.findOne({ study: studyId }, { orderBy: { version: 'desc' } });
  }
}

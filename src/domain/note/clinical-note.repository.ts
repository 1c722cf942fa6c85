import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { NoteStatus } from '../enums';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { ClinicalNote } from './clinical-note.entity';

/** What a list of notes may be narrowed by. */
export interface NoteFilter {
  predictionId?: string | null;
  status?: NoteStatus | null;
  /** Only notes that were released (approved, whatever happened after). */
  releasedOnly?: boolean;
}

/** What a review writes: the new status and, for an approval, who approved the note and when. */
export interface NoteReview {
  status: NoteStatus;
  approvedBy?: string;
  approvedAt?: Date;
}

/** Reads of clinical notes, and the conditional update that reviews a draft. */
export class ClinicalNoteRepository extends EntityRepository<ClinicalNote> {
  /** A page of notes newest first, with their predictions loaded. */
  async findPage(f: NoteFilter, page: PageArgs, pageMax: number): Promise<Page<ClinicalNote>> {
    const where = compact({ prediction: f.predictionId, status: f.status }) as Record<string, unknown>;
    if (f.releasedOnly) where.approvedAt = { $ne: null };
    const result = await paginate(
      this.em,
      this.entityName,
      where as FilterQuery<ClinicalNote>,
      page,
      pageMax,
    );
    await this.em.populate(result.items, ['prediction']);
    return result;
  }

  /** One note with its prediction and that prediction's study, or null. */
  findWithStudy(id: string): Promise<ClinicalNote | null> {
    return this.findOne({ id }, { populate: ['prediction.study'] });
  }

  /** The DRAFT and APPROVED notes of a study (the ones a new read can contradict). */
  findContradictableOfStudy(studyId: string): Promise<ClinicalNote[]> {
    return this.find({
      prediction: { study: studyId },
      status: { $in: [NoteStatus.DRAFT, NoteStatus.APPROVED] },
    });
  }

  /**
   * Writes a review of a note that is still a DRAFT, conditional on DRAFT in one statement so two
   * concurrent reviews cannot both succeed. True when this call reviewed it.
   */
  async reviewDraft(id: string, review: NoteReview): Promise<boolean> {
    return (await this.nativeUpdate({ id, status: NoteStatus.DRAFT }, review)) > 0;
  }
}

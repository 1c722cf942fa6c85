import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { BodyPart, StudyPriority, StudyStatus } from '../enums';
import { compact, type DateRange, rangeCondition } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { Study } from './study.entity';

/** Filters for listing studies. */
export interface StudyQuery {
  patientId?: string | null;
  siteId?: string | null;
  status?: StudyStatus | null;
  bodyPart?: BodyPart | null;
  priority?: StudyPriority | null;
  accessionNumber?: string | null;
  createdAt?: DateRange;
  /** Top-1 class of a served AI reading. */
  label?: string | null;
  /** A finding a served AI reading flagged at its operating point. */
  aiFinding?: string | null;
  /** Class of the radiologist's read in force. */
  finalLabel?: string | null;
  /** A finding the radiologist's read in force states present. */
  finalFinding?: string | null;
}

/** Reads of studies. */
export class StudyRepository extends EntityRepository<Study> {
  /** The studies with these ids (any order; missing ones left out). */
  findByIds(ids: readonly string[]): Promise<Study[]> {
    return this.find({ id: { $in: [...ids] } });
  }

  /** One study with its patient, or null. */
  findWithPatient(id: string): Promise<Study | null> {
    return this.findOne({ id }, { populate: ['patient'] });
  }

  /**
   * A page of studies newest first, filtered by their own fields and by what a served AI reading or the
   * radiologist's read in force says (ids already checked).
   */
  findPage(query: StudyQuery, page: PageArgs, pageMax: number): Promise<Page<Study>> {
    const where: Record<string, unknown> = compact({
      patient: query.patientId ?? undefined,
      site: query.siteId ?? undefined,
      status: query.status ?? undefined,
      bodyPart: query.bodyPart ?? undefined,
      priority: query.priority ?? undefined,
      accessionNumber: query.accessionNumber ?? undefined,
      createdAt: rangeCondition(query.createdAt),
    });
    const knex = this.getKnex();
    const served = () => knex('prediction as p').select('p.study_id').whereNot('p.route', 'SHADOW');
    const inForce = () =>
      knex('study_read as r')
        .select('r.study_id')
        .whereRaw('r.version = (select max(r2.version) from study_read r2 where r2.study_id = r.study_id)');
    const ids: unknown[] = [];
    if (query.label) ids.push(served().where('p.label', query.label));
    if (query.aiFinding)
      ids.push(served().whereRaw('p.findings @> ?::jsonb', [JSON.stringify([{ label: query.aiFinding }])]));
    if (query.finalLabel) ids.push(inForce().where('r.label', query.finalLabel));
    if (query.finalFinding)
      ids.push(
        inForce().whereRaw('r.findings @> ?::jsonb', [
          JSON.stringify([{ label: query.finalFinding, present: true }]),
        ]),
      );
    if (ids.length) where.$and = ids.map((q) => ({ id: { $in: q } }));
    return paginate(this.em, this.entityName, where as FilterQuery<Study>, page, pageMax);
  }

  /** The studies with these DICOM Study Instance UIDs. */
  findByInstanceUids(uids: string[]): Promise<Study[]> {
    return this.find({ studyInstanceUid: { $in: uids } });
  }

  /** The first study registered with a DICOM Study Instance UID, or null. */
  findFirstByInstanceUid(uid: string): Promise<Study | null> {
    return this.findOne({ studyInstanceUid: uid }, { orderBy: { createdAt: 'asc' } });
  }

  /** True when no study has this accession number. */
  async isAccessionFree(accessionNumber: string): Promise<boolean> {
    return (await this.count({ accessionNumber })) === 0;
  }

  /** True when the study holds an image with this DICOM SOP Instance UID. */
  async hasSopInstance(studyId: string, sopInstanceUid: string): Promise<boolean> {
    const rows = await this.em.execute(
      `select 1 from image where study_id = ? and dicom_attributes->>'sopInstanceUid' = ? limit 1`,
      [studyId, sopInstanceUid],
    );
    return rows.length > 0;
  }

  /** The studies with these ids, with only what queueing an analysis needs (id, priority, patient). */
  findQueueKeys(ids: string[]): Promise<Pick<Study, 'id' | 'priority' | 'patient'>[]> {
    return this.find({ id: { $in: ids } }, { fields: ['id', 'priority', 'patient'] });
  }
}

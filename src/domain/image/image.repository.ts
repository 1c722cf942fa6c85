import { type EntityManager, EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { ImageView } from '../enums';
import { Patient } from '../patient/patient.entity';
import { Study } from '../study/study.entity';
import { Upload } from '../upload/upload.entity';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import { PreparedRead } from '../shared/prepared-read';
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

  /**
   * The study and patient of a DICOM instance stored before with the same bytes (Study and SOP Instance UID,
   * content hash), or null.
   */
  async findStoredInstance(
    studyInstanceUid: string,
    sopInstanceUid: string,
    sha256: string,
  ): Promise<{ studyId: string; patientId: string } | null> {
    const rows = await this.em.execute<{ study_id: string; patient_id: string }[]>(
      `select s.id as study_id, s.patient_id from image i join study s on s.id = i.study_id
        where s.study_instance_uid = ? and i.dicom_attributes->>'sopInstanceUid' = ? and i.sha256 = ? limit 1`,
      [studyInstanceUid, sopInstanceUid, sha256],
    );
    const row = rows[0];
    return row ? { studyId: row.study_id, patientId: row.patient_id } : null;
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

/** What `attachImage` reads before it writes: the staged upload, and the study with its patient. */
export interface AttachInputs {
  upload: Upload | null;
  /** With its patient loaded. */
  study: Study | null;
}

/** The upload and the study with its patient, in one round trip (each a row as JSON); prepared. */
const ATTACH_INPUTS = new PreparedRead(
  'attach_inputs',
  `
select (select row_to_json(u) from upload u where u.id = ?::uuid) as upload,
  (select row_to_json(s) from study s where s.id = ?::uuid) as study,
  (select row_to_json(p) from study s join patient p on p.id = s.patient_id where s.id = ?::uuid) as patient`,
);

/**
 * Reads an upload and a study with its patient in one statement, mapped into `em`'s unit of work; a
 * null id (not a UUID) or a missing row gives null.
 */
export async function readAttachInputs(
  em: EntityManager,
  uploadId: string | null,
  studyId: string | null,
): Promise<AttachInputs> {
  type Row = Record<string, unknown> | null;
  const [row] = await ATTACH_INPUTS.rows<{ upload: Row; study: Row; patient: Row }>(em, [
    uploadId,
    studyId,
    studyId,
  ]);
  if (row?.patient) em.map(Patient, row.patient);
  return {
    upload: row?.upload ? em.map(Upload, row.upload) : null,
    study: row?.study && row.patient ? em.map(Study, row.study) : null,
  };
}

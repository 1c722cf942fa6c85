import type { StudySnapshot } from '../domain/shared/events';
import { siteIdOf } from '../domain/site/site-serving';
import type { Study } from '../domain/study/study.entity';
import { StudyType } from './study.types';

export const toStudy = (s: Study): StudyType =>
  Object.assign(new StudyType(), {
    id: s.id,
    patientId: s.patient.id,
    siteId: siteIdOf(s),
    bodyPart: s.bodyPart,
    priority: s.priority,
    status: s.status,
    accessionNumber: s.accessionNumber,
    studyInstanceUid: s.studyInstanceUid ?? null,
    description: s.description ?? null,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  });

/** A study as a STUDY_CHANGED event carried it (its state at the event). */
export const toStudyAtEvent = (s: StudySnapshot): StudyType =>
  Object.assign(new StudyType(), {
    ...s,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  });

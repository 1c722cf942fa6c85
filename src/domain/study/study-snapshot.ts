import type { StudyChange, StudyChangedEvent, StudySnapshot } from '../shared/events';
import { siteIdOf } from '../site/site-serving';
import type { Study } from './study.entity';

/**
 * NOTIFY payloads must stay under 8000 bytes: a snapshot bigger than this (a long description) is
 * left out and subscribers read the study instead.
 */
const MAX_SNAPSHOT_CHARS = 6000;

/** The study's own fields now, as a STUDY_CHANGED event carries them. */
function studySnapshot(study: Study): StudySnapshot {
  return {
    id: study.id,
    patientId: study.patient.id,
    siteId: siteIdOf(study),
    bodyPart: study.bodyPart,
    priority: study.priority,
    status: study.status,
    accessionNumber: study.accessionNumber,
    studyInstanceUid: study.studyInstanceUid ?? null,
    description: study.description ?? null,
    createdAt: study.createdAt.toISOString(),
    updatedAt: study.updatedAt.toISOString(),
  };
}

/**
 * The STUDY_CHANGED event of a change just committed, with the study as the change left it (so every
 * subscriber, in every process, gets that state: subscription fan-out does not read it again).
 */
export function studyChanged(study: Study, change: StudyChange): StudyChangedEvent & Record<string, unknown> {
  const snapshot = studySnapshot(study);
  const small = JSON.stringify(snapshot).length <= MAX_SNAPSHOT_CHARS;
  return { studyId: study.id, patientId: study.patient.id, change, ...(small ? { snapshot } : {}) };
}

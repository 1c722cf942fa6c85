import type { DicomIdentity } from '../../imaging';
import type { IntakeMismatchCode } from '../../errors';
import { BodyPart, ImageView } from '../enums';
import { bodyPartOf, viewOf } from '../pacs/dicom-mapping';

/** What the study says about itself, for comparison with a file's DICOM header. */
export interface StudyFacts {
  mrn: string;
  studyInstanceUid: string | null;
  accessionNumber: string;
  bodyPart: BodyPart;
}

const norm = (v: string | undefined) => (v ?? '').trim();

/**
 * Where a DICOM file's header contradicts the study it is attached to as `view`, most serious first.
 * An attribute the file leaves empty contradicts nothing; a View Position this product does not map
 * (e.g. a vendor code) is not a contradiction either.
 */
export function intakeMismatches(
  file: DicomIdentity,
  study: StudyFacts,
  view: ImageView,
  patientIdIssuer: string | null,
): IntakeMismatchCode[] {
  const out: IntakeMismatchCode[] = [];
  if (norm(file.patientId) && norm(file.patientId) !== study.mrn.trim()) out.push('PATIENT_MISMATCH');
  if (patientIdIssuer && norm(file.issuerOfPatientId) && norm(file.issuerOfPatientId) !== patientIdIssuer)
    out.push('PATIENT_ID_ISSUER_MISMATCH');
  if (
    study.studyInstanceUid &&
    norm(file.studyInstanceUid) &&
    norm(file.studyInstanceUid) !== study.studyInstanceUid
  )
    out.push('STUDY_UID_MISMATCH');
  if (norm(file.accessionNumber) && norm(file.accessionNumber) !== study.accessionNumber.trim())
    out.push('ACCESSION_MISMATCH');
  if (norm(file.bodyPartExamined) && bodyPartOf(file.bodyPartExamined) !== study.bodyPart)
    out.push('BODY_PART_MISMATCH');
  const fileView = viewOf(file.viewPosition);
  if (fileView && fileView !== view) out.push('VIEW_MISMATCH');
  return out;
}

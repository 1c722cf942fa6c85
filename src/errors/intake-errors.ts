import { AppError, ErrorDetails } from './app-error';

/**
 * What a DICOM file's own header can contradict about the study it is attached to, most serious
 * first. Each is its own code, so a front-end can tell the technician what is wrong.
 */
export const INTAKE_MISMATCH_CODES = [
  'PATIENT_MISMATCH',
  'PATIENT_ID_ISSUER_MISMATCH',
  'STUDY_UID_MISMATCH',
  'ACCESSION_MISMATCH',
  'BODY_PART_MISMATCH',
  'VIEW_MISMATCH',
] as const;

/** One of {@link INTAKE_MISMATCH_CODES}. */
export type IntakeMismatchCode = (typeof INTAKE_MISMATCH_CODES)[number];

/** The technician-facing sentence of each mismatch: the product's words, never the file's values. */
const MESSAGES: Record<IntakeMismatchCode, string> = {
  PATIENT_MISMATCH: "The file belongs to another patient: its Patient ID is not this patient's MRN",
  PATIENT_ID_ISSUER_MISMATCH:
    "The file's Patient ID was issued by another organisation than this hospital's MRNs",
  STUDY_UID_MISMATCH: "The file belongs to another examination: its Study Instance UID is not this study's",
  ACCESSION_MISMATCH: "The file belongs to another order: its accession number is not this study's",
  BODY_PART_MISMATCH: "The file shows another body part than this study's (its Body Part Examined)",
  VIEW_MISMATCH: "The file's View Position is not the view it is being attached as",
};

/**
 * A DICOM file contradicts the study it is attached to. Refused with the most serious mismatch as the
 * code and all of them in `details.mismatches`; attaching again with `override.accept` naming every
 * one of them (and a reason) accepts the file, and the override is audited.
 */
export class IntakeMismatchError extends AppError {
  override readonly httpStatus = 409;
  constructor(
    readonly code: IntakeMismatchCode,
    details: ErrorDetails & { mismatches: IntakeMismatchCode[] },
  ) {
    super(
      `${MESSAGES[code]}${details.mismatches.length > 1 ? ` (and ${details.mismatches.length - 1} more mismatch(es), see details)` : ''}. Check the study, or attach with an override that names the mismatch.`,
      details,
    );
  }
}

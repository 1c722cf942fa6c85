/**
 * Registers the domain's enums (`domain/enums.ts`, their one home) with type-graphql: GraphQL name,
 * description and a description per value. Imported once for its effect by `build-schema.ts`; schema
 * types and resolvers import the enums themselves from `domain/enums.ts`. The one enum of its own,
 * {@link IntakeMismatch}, is the GraphQL face of the intake mismatch codes.
 */
import { registerEnumType } from 'type-graphql';
import { INTAKE_MISMATCH_CODES, IntakeMismatchCode } from '../errors/intake-errors';
import {
  AnalysisJobStatus,
  AuditAction,
  BodyPart,
  DriftAlertStatus,
  DriftWindowKind,
  GateVerdict,
  ImageFormat,
  ImageView,
  ModelStage,
  ModelStageChangeKind,
  ModelTask,
  NoteAudience,
  NoteSource,
  NoteStatus,
  ReadingOutcome,
  ReferenceLabelSource,
  ReviewAgreement,
  ReviewSource,
  Role,
  Sex,
  SiteEvaluationStatus,
  SiteEvaluationTrigger,
  SiteRolloutGateStatus,
  SiteValidationChange,
  StudyPriority,
  StudyStatus,
  ThresholdSource,
  TrainingRunStatus,
} from '../domain/enums';

registerEnumType(AnalysisJobStatus, {
  name: 'AnalysisJobStatus',
  description: 'State of a batch analysis job.',
  valuesConfig: {
    QUEUED: { description: 'Waiting for workers.' },
    RUNNING: { description: 'Studies are being analysed.' },
    COMPLETED: { description: 'Every study finished (some may have failed; see failures).' },
    FAILED: { description: 'Every study failed, or the job could not be queued.' },
  },
});
registerEnumType(Role, {
  name: 'Role',
  description: 'Role of a user; decides what it may read and do.',
  valuesConfig: {
    RADIOLOGIST: { description: 'Reads predictions, corrects them and approves notes.' },
    TECHNICIAN: { description: 'Registers patients and studies and uploads images.' },
    ADMIN: { description: 'Manages users and models; reads the audit trail.' },
    INTEGRATOR: { description: 'A system that reads results and subscribes to events.' },
  },
});
registerEnumType(Sex, {
  name: 'Sex',
  description: 'Administrative sex as recorded by the hospital.',
  valuesConfig: {
    FEMALE: { description: 'Female.' },
    MALE: { description: 'Male.' },
    OTHER: { description: 'Other.' },
    UNKNOWN: { description: 'Not recorded.' },
  },
});
registerEnumType(BodyPart, {
  name: 'BodyPart',
  description: 'Anatomy a study covers; decides which model reads it.',
  valuesConfig: {
    CHEST: { description: 'Chest radiograph (pulmonary model).' },
    WRIST: { description: 'Wrist radiographs, PA and lateral (fracture model).' },
  },
});
registerEnumType(StudyPriority, {
  name: 'StudyPriority',
  description: 'Reading priority: STAT before URGENT before ROUTINE.',
  valuesConfig: {
    ROUTINE: { description: 'Routine reading.' },
    URGENT: { description: 'Urgent: read before routine studies.' },
    STAT: { description: 'Immediate: read first.' },
  },
});
registerEnumType(StudyStatus, {
  name: 'StudyStatus',
  description:
    'Reading workflow of a study: REGISTERED → IMAGES_ATTACHED → ANALYZED → IN_REVIEW → FINAL → AMENDED.',
  valuesConfig: {
    REGISTERED: { description: 'Registered, no images yet (technicians).' },
    IMAGES_ATTACHED: { description: 'Images attached, not analysed (technicians).' },
    ANALYZING: { description: 'AI analysis in progress.' },
    ANALYZED: { description: 'AI second reading recorded; awaiting the radiologist.' },
    IN_REVIEW: { description: 'A radiologist opened the study for reading (startReview).' },
    FINAL: { description: "The radiologist's final read is signed (signFinalRead)." },
    AMENDED: { description: 'The signed read was amended (amendFinalRead); the latest read is in force.' },
    FAILED: { description: 'The AI analysis failed; a radiologist can still read the study.' },
  },
});
registerEnumType(ImageView, {
  name: 'ImageView',
  description: 'Radiographic projection of an image.',
  valuesConfig: {
    PA: { description: 'Posteroanterior projection.' },
    AP: { description: 'Anteroposterior projection.' },
    LATERAL: { description: 'Lateral projection.' },
    OBLIQUE: { description: 'Oblique projection.' },
  },
});
registerEnumType(ImageFormat, {
  name: 'ImageFormat',
  description: 'Container format of an uploaded file.',
  valuesConfig: {
    PNG: { description: 'PNG, 8 or 16 bits.' },
    JPEG: { description: 'JPEG.' },
    DICOM: { description: 'DICOM Part 10 file.' },
  },
});
registerEnumType(GateVerdict, {
  name: 'GateVerdict',
  description: 'Verdict of the input gate that runs before any diagnosis.',
  valuesConfig: {
    ACCEPTED: { description: 'A readable radiograph of the expected body part: a diagnosis was made.' },
    NOT_A_RADIOGRAPH: { description: 'Not a radiograph (photo, document, other modality): refused.' },
    WRONG_BODY_PART: { description: 'A radiograph of another body part: refused.' },
    LOW_QUALITY: { description: 'Too poor to read reliably: refused.' },
  },
});
registerEnumType(ModelTask, {
  name: 'ModelTask',
  description: 'Which reading task a model serves.',
  valuesConfig: {
    CHEST: { description: 'Chest: NORMAL, PNEUMONIA, TUBERCULOSIS.' },
    WRIST: { description: 'Wrist: fracture or no fracture from two views.' },
  },
});
registerEnumType(ModelStage, {
  name: 'ModelStage',
  description: 'Rollout stage of a model version.',
  valuesConfig: {
    STAGING: { description: 'Registered, serving no traffic.' },
    CANARY: { description: 'Serving a configured share of studies.' },
    PRODUCTION: { description: 'Serving all other studies.' },
    ARCHIVED: { description: 'Retired; kept for lineage.' },
  },
});
registerEnumType(TrainingRunStatus, {
  name: 'TrainingRunStatus',
  description: 'State of a training run.',
  valuesConfig: {
    QUEUED: { description: 'Waiting for a worker.' },
    RUNNING: { description: 'Training or evaluating.' },
    SUCCEEDED: { description: 'Passed the recall gate and was registered.' },
    REJECTED: { description: 'Trained but failed the gate; not registered.' },
    FAILED: { description: 'Stopped by an error.' },
  },
});
registerEnumType(NoteAudience, {
  name: 'NoteAudience',
  description: 'Who a clinical note is written for.',
  valuesConfig: {
    PATIENT: { description: 'Plain language for the patient.' },
    CLINICIAN: { description: 'Technical language for clinicians.' },
  },
});
registerEnumType(NoteStatus, {
  name: 'NoteStatus',
  description: 'Review state of a clinical note.',
  valuesConfig: {
    DRAFT: { description: 'Not yet reviewed; not visible to integrators.' },
    APPROVED: { description: 'Approved by a radiologist; releasable.' },
    REJECTED: { description: 'Rejected by a radiologist.' },
    INVALIDATED: {
      description:
        'A later radiologist read or correction states other findings: the note no longer applies (see invalidationReason).',
    },
  },
});
registerEnumType(NoteSource, {
  name: 'NoteSource',
  description: 'What a clinical note was drafted from.',
  valuesConfig: {
    AI: { description: 'The AI findings (no radiologist read or correction existed yet).' },
    RADIOLOGIST: { description: "The radiologist's read (signed final read, or a correction)." },
  },
});
registerEnumType(ReviewAgreement, {
  name: 'ReviewAgreement',
  description: 'How a radiologist review relates to the AI reading beside it.',
  valuesConfig: {
    AGREED: { description: 'Every finding matches what the AI flagged.' },
    CORRECTED: { description: 'At least one finding differs from what the AI flagged.' },
    NO_AI_RESULT: { description: 'No accepted AI reading to compare with.' },
  },
});
registerEnumType(ReviewSource, {
  name: 'ReviewSource',
  description: "Where a radiologist's review of a prediction comes from.",
  valuesConfig: {
    FINAL_READ: { description: "The study's signed final read (or its latest amendment)." },
    CORRECTION: { description: 'A correction recorded before any read was signed (submitCorrection).' },
  },
});
registerEnumType(ReadingOutcome, {
  name: 'ReadingOutcome',
  description: 'The one answer of an AI reading to key on.',
  valuesConfig: {
    FLAGGED_FOR_REVIEW: {
      description: 'At least one finding reached its operating point: the study is flagged for review.',
    },
    NOTHING_FLAGGED: {
      description: 'No finding reached its operating point (the AI may still miss disease).',
    },
    NOT_READ: { description: 'The input gate refused the film: no diagnosis was made.' },
  },
});
registerEnumType(DriftAlertStatus, {
  name: 'DriftAlertStatus',
  description: 'State of a drift alert.',
  valuesConfig: {
    OPEN: { description: 'Raised, not yet handled.' },
    ACKNOWLEDGED: { description: 'Seen by a person.' },
    RESOLVED: { description: 'Handled.' },
  },
});
registerEnumType(DriftWindowKind, {
  name: 'DriftWindowKind',
  description: 'How a drift window was cut from the accepted predictions of a model version.',
  valuesConfig: {
    COUNT: { description: 'Every DRIFT_WINDOW_SIZE accepted predictions (tumbling).' },
    TIME: { description: 'The accepted predictions of each DRIFT_TIME_WINDOW_MINUTES period.' },
  },
});
registerEnumType(AuditAction, {
  name: 'AuditAction',
  description: 'Kind of action recorded in the audit trail.',
  valuesConfig: {
    READ: { description: 'Patient data was read.' },
    CREATE: { description: 'A record was created.' },
    UPDATE: { description: 'A record was changed.' },
    DELETE: { description: 'A record was deleted.' },
    UPLOAD: { description: 'A file was uploaded.' },
    ANALYZE: { description: 'An analysis was requested.' },
    LOGIN: { description: 'A token was issued.' },
    SUBSCRIBE: { description: 'A subscription was opened.' },
    DENIED: { description: "An attempt the caller's role may not make (FORBIDDEN)." },
  },
});

/** The DICOM header mismatches refused at attach (see IntakeMismatchError), as a GraphQL enum. */
export const IntakeMismatch = Object.fromEntries(INTAKE_MISMATCH_CODES.map((c) => [c, c])) as {
  [K in IntakeMismatchCode]: K;
};
registerEnumType(IntakeMismatch, {
  name: 'IntakeMismatch',
  description:
    "A way a DICOM file's header contradicts the study it is attached to (also the error code that refuses it).",
  valuesConfig: {
    PATIENT_MISMATCH: { description: "Patient ID is not the study patient's MRN." },
    PATIENT_ID_ISSUER_MISMATCH: { description: 'Issuer of Patient ID is not DICOM_PATIENT_ID_ISSUER.' },
    STUDY_UID_MISMATCH: { description: "Study Instance UID is not the study's." },
    ACCESSION_MISMATCH: { description: "Accession Number is not the study's." },
    BODY_PART_MISMATCH: { description: "Body Part Examined is not the study's body part." },
    VIEW_MISMATCH: { description: 'View Position is not the view given.' },
  },
});

registerEnumType(ModelStageChangeKind, {
  name: 'ModelStageChangeKind',
  description: 'What moved a model version from one rollout stage to another.',
  valuesConfig: {
    INITIAL_PRODUCTION: {
      description: 'Start-up made the newest version PRODUCTION because the task had none.',
    },
    CANARY_STARTED: { description: 'An admin started a canary (STAGING to CANARY).' },
    CANARY_SHARE_CHANGED: { description: "An admin changed the canary's traffic share." },
    PROMOTED: { description: 'An admin promoted the canary to PRODUCTION.' },
    REPLACED: { description: 'Archived because another version was promoted to PRODUCTION.' },
    ARCHIVED: { description: 'An admin archived a STAGING or CANARY version.' },
    ROLLED_BACK: { description: 'Archived by a rollback of PRODUCTION.' },
    RESTORED: { description: 'Made PRODUCTION again by a rollback.' },
  },
});
registerEnumType(ReferenceLabelSource, {
  name: 'ReferenceLabelSource',
  description: "Where a label of a site's validation set comes from.",
  valuesConfig: {
    IMPORTED: { description: 'Imported by an admin or a radiologist (addSiteValidationStudies).' },
    FINAL_READ: { description: "The radiologist's signed final read (or its amendment)." },
    CORRECTION: { description: "A radiologist's correction made before a read was signed." },
  },
});
registerEnumType(SiteEvaluationStatus, {
  name: 'SiteEvaluationStatus',
  description: "State of an evaluation of a model version on a site's validation set.",
  valuesConfig: {
    QUEUED: { description: 'Waiting for a worker.' },
    RUNNING: { description: 'Reading the labelled studies.' },
    SUCCEEDED: { description: 'Measured; it proposes a site operating point.' },
    FAILED: { description: 'Could not be measured (see error).' },
  },
});
registerEnumType(SiteEvaluationTrigger, {
  name: 'SiteEvaluationTrigger',
  description: 'Why a site evaluation ran.',
  valuesConfig: {
    REQUESTED: { description: 'An admin asked for it (evaluateSite).' },
    PROMOTION: { description: 'The version was promoted to PRODUCTION (the per-site rollout gate).' },
  },
});
registerEnumType(SiteRolloutGateStatus, {
  name: 'SiteRolloutGateStatus',
  description: 'The per-site rollout gate of a version promoted to PRODUCTION.',
  valuesConfig: {
    PENDING: { description: 'Being evaluated on the site: the site keeps its previous version.' },
    PASSED: {
      description:
        "It reached the site's approved recall (or its site operating point was approved): it serves the site.",
    },
    FAILED: {
      description:
        "It fell below the site's approved recall, or could not be evaluated: the site keeps its previous version.",
    },
  },
});
registerEnumType(SiteValidationChange, {
  name: 'SiteValidationChange',
  description: "What changed in a site's validation status.",
  valuesConfig: {
    EVALUATION_QUEUED: { description: 'An evaluation was queued.' },
    EVALUATION_SUCCEEDED: { description: 'An evaluation finished and proposes an operating point.' },
    EVALUATION_FAILED: { description: 'An evaluation failed.' },
    OPERATING_POINT_APPROVED: {
      description: 'An admin approved a site operating point: the site is validated.',
    },
    ROLLOUT_GATE_PENDING: {
      description: 'A promoted version waits for its evaluation before it serves the site.',
    },
    ROLLOUT_GATE_PASSED: { description: 'A promoted version passed the site gate and serves the site.' },
    ROLLOUT_GATE_FAILED: {
      description: 'A promoted version failed the site gate: the site keeps its previous version.',
    },
  },
});
registerEnumType(ThresholdSource, {
  name: 'ThresholdSource',
  description: "Where a finding's threshold in a site operating point comes from.",
  valuesConfig: {
    SITE: { description: "Chosen on the site's own positives, with a finite-sample recall guarantee." },
    SHIPPED: {
      description: "The model's shipped threshold: the site had too few positives for the guarantee.",
    },
  },
});

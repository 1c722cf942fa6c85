import { registerEnumType } from 'type-graphql';
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
  NoteStatus,
  Role,
  Sex,
  StudyPriority,
  StudyStatus,
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
  description: 'Lifecycle of a study from registration to clinician review.',
  valuesConfig: {
    REGISTERED: { description: 'Registered, no images yet.' },
    IMAGES_ATTACHED: { description: 'Images attached, not analysed.' },
    ANALYZING: { description: 'AI analysis in progress.' },
    ANALYZED: { description: 'AI analysis finished; awaiting clinician review.' },
    REVIEWED: { description: 'Reviewed by a clinician.' },
    FAILED: { description: 'Analysis failed; see the prediction or job for why.' },
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

export {
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
  NoteStatus,
  Role,
  Sex,
  StudyPriority,
  StudyStatus,
  TrainingRunStatus,
};

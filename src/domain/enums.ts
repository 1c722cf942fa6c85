/** Domain enumerations shared by entities, services and the GraphQL schema. */

/** Roles a user can hold; each maps to a fixed set of permissions in `auth/policy.ts`. */
export enum Role {
  RADIOLOGIST = 'RADIOLOGIST',
  TECHNICIAN = 'TECHNICIAN',
  ADMIN = 'ADMIN',
  INTEGRATOR = 'INTEGRATOR',
}

/** Administrative sex as recorded by the hospital (HL7 administrative gender). */
export enum Sex {
  FEMALE = 'FEMALE',
  MALE = 'MALE',
  OTHER = 'OTHER',
  UNKNOWN = 'UNKNOWN',
}

/** Anatomy a study covers; decides which model reads it. */
export enum BodyPart {
  CHEST = 'CHEST',
  WRIST = 'WRIST',
}

/** Reading priority; STAT studies are analysed before URGENT before ROUTINE. */
export enum StudyPriority {
  ROUTINE = 'ROUTINE',
  URGENT = 'URGENT',
  STAT = 'STAT',
}

/** Lifecycle of a study from registration to clinician review. */
export enum StudyStatus {
  REGISTERED = 'REGISTERED',
  IMAGES_ATTACHED = 'IMAGES_ATTACHED',
  ANALYZING = 'ANALYZING',
  ANALYZED = 'ANALYZED',
  REVIEWED = 'REVIEWED',
  FAILED = 'FAILED',
}

/** Radiographic projection of one image. */
export enum ImageView {
  PA = 'PA',
  AP = 'AP',
  LATERAL = 'LATERAL',
  OBLIQUE = 'OBLIQUE',
}

/** Container format of an uploaded file. */
export enum ImageFormat {
  PNG = 'PNG',
  JPEG = 'JPEG',
  DICOM = 'DICOM',
}

/** Verdict of the input gate that runs before any diagnosis. */
export enum GateVerdict {
  ACCEPTED = 'ACCEPTED',
  NOT_A_RADIOGRAPH = 'NOT_A_RADIOGRAPH',
  WRONG_BODY_PART = 'WRONG_BODY_PART',
  LOW_QUALITY = 'LOW_QUALITY',
}

/** Which model task a version serves. */
export enum ModelTask {
  CHEST = 'CHEST',
  WRIST = 'WRIST',
}

/** Rollout stage of a model version. */
export enum ModelStage {
  STAGING = 'STAGING',
  CANARY = 'CANARY',
  PRODUCTION = 'PRODUCTION',
  ARCHIVED = 'ARCHIVED',
}

/** State of a training run. */
export enum TrainingRunStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  REJECTED = 'REJECTED',
  FAILED = 'FAILED',
}

/** Who a clinical note is written for. */
export enum NoteAudience {
  PATIENT = 'PATIENT',
  CLINICIAN = 'CLINICIAN',
}

/** Review state of a clinical note. */
export enum NoteStatus {
  DRAFT = 'DRAFT',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
}

/** State of a drift alert. */
export enum DriftAlertStatus {
  OPEN = 'OPEN',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  RESOLVED = 'RESOLVED',
}

/** How a drift window was cut from the stream of accepted predictions. */
export enum DriftWindowKind {
  COUNT = 'COUNT',
  TIME = 'TIME',
}

/** Kind of action recorded in the audit trail. */
export enum AuditAction {
  READ = 'READ',
  CREATE = 'CREATE',
  UPDATE = 'UPDATE',
  DELETE = 'DELETE',
  UPLOAD = 'UPLOAD',
  ANALYZE = 'ANALYZE',
  LOGIN = 'LOGIN',
  SUBSCRIBE = 'SUBSCRIBE',
}

/** State of a batch analysis job. */
export enum AnalysisJobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}

/** What moved a model version from one rollout stage to another (the registry's history). */
export enum ModelStageChangeKind {
  /** The repository sync made the newest version PRODUCTION because the task had none. */
  INITIAL_PRODUCTION = 'INITIAL_PRODUCTION',
  CANARY_STARTED = 'CANARY_STARTED',
  CANARY_SHARE_CHANGED = 'CANARY_SHARE_CHANGED',
  PROMOTED = 'PROMOTED',
  /** The production version was archived because another was promoted. */
  REPLACED = 'REPLACED',
  ARCHIVED = 'ARCHIVED',
  /** The production version was archived by a rollback. */
  ROLLED_BACK = 'ROLLED_BACK',
  /** The version a rollback made PRODUCTION again. */
  RESTORED = 'RESTORED',
}

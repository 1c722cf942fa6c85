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

/**
 * Reading workflow of a study: REGISTERED → IMAGES_ATTACHED → ANALYZED (AI second reading) →
 * IN_REVIEW (a radiologist opened it) → FINAL (the radiologist signed the final read) → AMENDED
 * (the signed read was amended, any number of times). FAILED: the AI analysis failed; the study can
 * still be read by a radiologist.
 */
export enum StudyStatus {
  REGISTERED = 'REGISTERED',
  IMAGES_ATTACHED = 'IMAGES_ATTACHED',
  ANALYZING = 'ANALYZING',
  ANALYZED = 'ANALYZED',
  IN_REVIEW = 'IN_REVIEW',
  FINAL = 'FINAL',
  AMENDED = 'AMENDED',
  FAILED = 'FAILED',
}

/** Study states in which the radiologist's read is signed: images and corrections go through an amendment. */
export const SIGNED_STATUSES: readonly StudyStatus[] = [StudyStatus.FINAL, StudyStatus.AMENDED];

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

/**
 * Verdict of the input gate that runs before any diagnosis. Inference owns this vocabulary (the reader
 * decides it); the domain keeps its values unchanged, so it re-exports the enum instead of mapping it.
 */
export { GateVerdict } from '../inference/gate-verdict';

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
  /** A later radiologist read or correction contradicts what the note says; it may no longer be released. */
  INVALIDATED = 'INVALIDATED',
}

/** What a clinical note was drafted from. */
export enum NoteSource {
  /** The AI findings (no radiologist read or correction existed yet). */
  AI = 'AI',
  /** The radiologist's read (signed final read, or a correction). */
  RADIOLOGIST = 'RADIOLOGIST',
}

/** How a radiologist's review relates to the AI reading it reviewed. */
export enum ReviewAgreement {
  /** Every finding the radiologist stated matches what the AI flagged. */
  AGREED = 'AGREED',
  /** At least one finding differs from what the AI flagged. */
  CORRECTED = 'CORRECTED',
  /** There was no accepted AI reading to compare with (the gate refused the film, or no analysis). */
  NO_AI_RESULT = 'NO_AI_RESULT',
}

/** Where a radiologist's review of a prediction comes from. */
export enum ReviewSource {
  /** The study's signed final read (or its latest amendment). */
  FINAL_READ = 'FINAL_READ',
  /** A correction recorded without a signed read (submitCorrection). */
  CORRECTION = 'CORRECTION',
}

/** The one answer of an AI reading an integrator should key on. */
export enum ReadingOutcome {
  /** At least one finding reached its operating point: the study is flagged for review. */
  FLAGGED_FOR_REVIEW = 'FLAGGED_FOR_REVIEW',
  /** No finding reached its operating point (the AI may still miss disease). */
  NOTHING_FLAGGED = 'NOTHING_FLAGGED',
  /** The input gate refused the film: no diagnosis was made. */
  NOT_READ = 'NOT_READ',
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
  /** An attempt the caller's role may not make (FORBIDDEN), recorded under the operation it tried. */
  DENIED = 'DENIED',
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

/** Where a label of a site's validation set comes from. */
export enum ReferenceLabelSource {
  /** Imported by an admin or a radiologist (addSiteValidationStudies). */
  IMPORTED = 'IMPORTED',
  /** The radiologist's signed final read (or its amendment) of the site's study. */
  FINAL_READ = 'FINAL_READ',
  /** A radiologist's correction of the site's prediction before a read was signed. */
  CORRECTION = 'CORRECTION',
}

/** State of one site evaluation (a durable job). */
export enum SiteEvaluationStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

/** Why a site evaluation ran. */
export enum SiteEvaluationTrigger {
  /** An admin asked for it (evaluateSite). */
  REQUESTED = 'REQUESTED',
  /** The version was promoted to PRODUCTION: the per-site rollout gate. */
  PROMOTION = 'PROMOTION',
}

/** The per-site rollout gate of a version promoted to PRODUCTION. */
export enum SiteRolloutGateStatus {
  /** Being evaluated on the site's validation set: the site keeps its previous version. */
  PENDING = 'PENDING',
  /** It reached the site's approved recall (or the site approved its operating point): it serves there. */
  PASSED = 'PASSED',
  /** It fell below the site's approved recall, or could not be evaluated: the site keeps its previous version. */
  FAILED = 'FAILED',
}

/** What changed in a site's validation status (the siteValidationChanged subscription). */
export enum SiteValidationChange {
  EVALUATION_QUEUED = 'EVALUATION_QUEUED',
  EVALUATION_SUCCEEDED = 'EVALUATION_SUCCEEDED',
  EVALUATION_FAILED = 'EVALUATION_FAILED',
  OPERATING_POINT_APPROVED = 'OPERATING_POINT_APPROVED',
  ROLLOUT_GATE_PENDING = 'ROLLOUT_GATE_PENDING',
  ROLLOUT_GATE_PASSED = 'ROLLOUT_GATE_PASSED',
  ROLLOUT_GATE_FAILED = 'ROLLOUT_GATE_FAILED',
}

/** Where a finding's threshold in a site operating point comes from. */
export enum ThresholdSource {
  /** Chosen on the site's own positives, with a finite-sample recall guarantee. */
  SITE = 'SITE',
  /** The model's shipped threshold, kept because the site had too few positives for the guarantee. */
  SHIPPED = 'SHIPPED',
}

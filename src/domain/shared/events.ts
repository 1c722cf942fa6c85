/**
 * The domain's event vocabulary: the topics services publish (through their `EventPublisher`) and the
 * payloads of study events. The PubSub adapter (`src/pubsub/`) and the subscription resolvers carry
 * them; payloads hold ids only.
 */
import type { BodyPart, StudyPriority, StudyStatus } from '../enums';

/** Topics published by services and consumed by subscription resolvers. Payloads hold ids only. */
export const Topic = {
  STUDY_CHANGED: 'STUDY_CHANGED',
  IMAGE_ATTACHED: 'IMAGE_ATTACHED',
  PREDICTION_COMPLETED: 'PREDICTION_COMPLETED',
  ANALYSIS_JOB_UPDATED: 'ANALYSIS_JOB_UPDATED',
  MODEL_VERSION_CHANGED: 'MODEL_VERSION_CHANGED',
  DRIFT_DETECTED: 'DRIFT_DETECTED',
  /** A user was deactivated (or otherwise changed): every process drops its cached principal. */
  USER_CHANGED: 'USER_CHANGED',
  NOTE_DRAFT_STREAMED: 'NOTE_DRAFT_STREAMED',
  /** A site's validation status for a model version changed (evaluation, approval, rollout gate). */
  SITE_VALIDATION_CHANGED: 'SITE_VALIDATION_CHANGED',
} as const;

/** What happened to a study: registration, edits, intake, and each step of the reading workflow. */
export type StudyChange =
  | 'CREATED'
  | 'UPDATED'
  | 'IMAGE_ATTACHED'
  | 'ANALYZED'
  | 'REVIEW_STARTED'
  | 'FINAL_READ_SIGNED'
  | 'READ_AMENDED';

/** A study's own fields as they were at a STUDY_CHANGED event (dates as ISO strings). */
export interface StudySnapshot {
  id: string;
  patientId: string;
  siteId: string;
  bodyPart: BodyPart;
  priority: StudyPriority;
  status: StudyStatus;
  accessionNumber: string;
  studyInstanceUid: string | null;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Payload of a STUDY_CHANGED event. */
export interface StudyChangedEvent {
  studyId: string;
  patientId: string;
  change: StudyChange;
  /**
   * The study as the change left it: every subscriber gets this state, however late its event is
   * delivered, and no process reads the study again for it. Publishers that do not hold the study
   * leave it out; then each process reads it once per event for all its subscribers.
   */
  snapshot?: StudySnapshot;
}

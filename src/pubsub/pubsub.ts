import { createPubSub } from '@graphql-yoga/subscription';
import type { PubSub } from 'type-graphql';
import type { Logger } from '../logging/logger';
import { PgEventTarget } from './pg-event-target';

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

/** Payload of a STUDY_CHANGED event. */
export interface StudyChangedEvent {
  studyId: string;
  patientId: string;
  change: StudyChange;
}

/** A PubSub plus the resources to release at shutdown. */
export interface AppPubSub {
  pubSub: PubSub;
  close(): Promise<void>;
}

/**
 * Creates the PubSub for subscriptions: PostgreSQL LISTEN/NOTIFY across processes (`postgres`), or
 * in-process (`memory`, for the embedded single-process mode).
 */
export async function createAppPubSub(
  driver: 'postgres' | 'memory',
  url: string,
  logger: Logger,
): Promise<AppPubSub> {
  if (driver === 'memory') {
    return { pubSub: createPubSub() as unknown as PubSub, close: async () => undefined };
  }
  const eventTarget = new PgEventTarget(url, logger);
  await eventTarget.start();
  return {
    pubSub: createPubSub({ eventTarget: eventTarget as never }) as unknown as PubSub,
    close: () => eventTarget.close(),
  };
}

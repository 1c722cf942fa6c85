import { createPubSub } from '@graphql-yoga/subscription';
import type { PubSub } from 'type-graphql';
import type { BodyPart, StudyPriority, StudyStatus } from '../domain/enums';
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

/** A PubSub plus the resources to release at shutdown. */
export interface AppPubSub {
  pubSub: PubSub;
  /**
   * Calls `handler` with each payload published on `topic` (from any process), in order, without a
   * per-listener buffer: what subscription fan-out uses (one listener per topic and process, however
   * many subscribers). A handler must not throw. Returns the function that stops listening.
   */
  listen(topic: string, handler: (payload: unknown) => void): () => void;
  close(): Promise<void>;
}

/** {@link AppPubSub.listen} over an event target. */
function listenOn(target: EventTarget) {
  return (topic: string, handler: (payload: unknown) => void): (() => void) => {
    const listener = (event: Event) => handler((event as CustomEvent).detail);
    target.addEventListener(topic, listener);
    return () => target.removeEventListener(topic, listener);
  };
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
    const target = new EventTarget();
    return {
      pubSub: createPubSub({ eventTarget: target as never }) as unknown as PubSub,
      listen: listenOn(target),
      close: async () => undefined,
    };
  }
  const eventTarget = new PgEventTarget(url, logger);
  await eventTarget.start();
  return {
    pubSub: createPubSub({ eventTarget: eventTarget as never }) as unknown as PubSub,
    listen: listenOn(eventTarget),
    close: () => eventTarget.close(),
  };
}

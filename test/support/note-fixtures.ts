import { GateVerdict } from '../../src/domain/enums';
import { Prediction } from '../../src/domain/prediction/prediction.entity';
import { Study } from '../../src/domain/study/study.entity';
import { AI_ASSISTANCE_WARNING } from '../../src/domain/prediction/ai-assistance';
import { createPatient, createStudy } from './clinical-fixtures';
import type { TestApp } from './test-app';

/** Fields of ClinicalNote the note tests read. */
export const NOTE_FIELDS =
  'id predictionId audience language body status backend releasable failedChecks safetyChecks warning approvedAt createdAt';

/** ClinicalNote as the note tests read it. */
export interface NoteResult {
  id: string;
  predictionId: string;
  audience: string;
  language: string;
  body: string;
  status: string;
  backend: string;
  releasable: boolean;
  failedChecks: string[];
  safetyChecks: {
    passed: boolean;
    checks: { name: string; passed: boolean; detail: string }[];
    ungroundedConditions: string[];
    readability: { metric: string; score: number; target: number; passed: boolean };
  };
  warning: string;
  approvedAt: string | null;
  createdAt: string;
}

/** One NoteDraftChunk delivered by noteDraftStreamed. */
export interface ChunkEvent {
  noteDraftStreamed: {
    noteId: string;
    predictionId: string;
    sequence: number;
    text: string;
    done: boolean;
    error: string | null;
  };
}

/** Subscription document for the draft stream of one prediction. */
export const DRAFT_SUBSCRIPTION =
  'subscription($p: ID!) { noteDraftStreamed(predictionId: $p) { noteId predictionId sequence text done error } }';

/**
 * Registers a patient and a study through the API, then stores a prediction with the given findings
 * straight in the database: the note tests need findings they choose, not what a model happens to say.
 */
export async function seedPrediction(
  t: TestApp,
  technicianToken: string,
  findings: { label: string; probability: number; threshold: number }[],
  bodyPart: 'CHEST' | 'WRIST' = 'CHEST',
  route: 'PRODUCTION' | 'CANARY' | 'SHADOW' = 'PRODUCTION',
): Promise<{ predictionId: string; patientId: string }> {
  const patientId = await createPatient(t, technicianToken);
  const studyId = await createStudy(t, technicianToken, patientId, bodyPart);
  const em = t.app.orm.em.fork();
  const prediction = em.create(Prediction, {
    study: em.getReference(Study, studyId),
    gateVerdict: GateVerdict.ACCEPTED,
    label: findings[0]?.label ?? null,
    probabilities: Object.fromEntries(findings.map((f) => [f.label, f.probability])),
    findings,
    warning: AI_ASSISTANCE_WARNING,
    route,
  } as Prediction);
  await em.flush();
  return { predictionId: prediction.id, patientId };
}

/** Calls generateNote and returns the parsed response. */
export function generateNote(
  t: TestApp,
  token: string,
  predictionId: string,
  audience: 'PATIENT' | 'CLINICIAN',
  language = 'en',
) {
  return t.gql<{ generateNote: NoteResult }>(
    token,
    `mutation($p: ID!, $a: NoteAudience!, $l: String!) { generateNote(predictionId: $p, audience: $a, language: $l) { ${NOTE_FIELDS} } }`,
    { p: predictionId, a: audience, l: language },
  );
}

/**
 * Joins the streamed pieces of one note in sequence order. NOTIFY may deliver pieces out of order, even
 * after the `done` event, so a stream is complete once `done` has arrived with every sequence before it.
 */
export function joinChunks(
  events: ChunkEvent[],
  noteId: string,
): { text: string; done: boolean; complete: boolean; error: string | null } {
  const mine = events
    .map((e) => e.noteDraftStreamed)
    .filter((c) => c.noteId === noteId)
    .sort((a, b) => a.sequence - b.sequence);
  const last = mine.find((c) => c.done) ?? null;
  const pieces = mine.filter((c) => !c.done);
  return {
    text: pieces.map((c) => c.text).join(''),
    done: last !== null,
    complete: last !== null && pieces.length === last.sequence && pieces.every((c, i) => c.sequence === i),
    error: last?.error ?? null,
  };
}

/** Waits until the whole stream of one note has arrived. */
export function waitForCompleteStream(
  sub: {
    events: ChunkEvent[];
    waitForEvent(p: (e: ChunkEvent) => boolean, timeoutMs?: number): Promise<ChunkEvent>;
  },
  noteId: string,
  timeoutMs = 5000,
): Promise<ChunkEvent> {
  return sub.waitForEvent(() => joinChunks(sub.events, noteId).complete, timeoutMs);
}

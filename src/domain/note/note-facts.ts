import type { BodyPart, GateVerdict, NoteAudience } from '../enums';
import type { NoteLanguage } from './note-language';

/**
 * The structured findings a note is drafted from: the only facts a generator receives. No names, MRNs
 * or dates ever reach a generator, so drafts (and the tokens streamed while they are written) hold no PHI.
 */
export interface NoteFacts {
  bodyPart: BodyPart;
  gateVerdict: GateVerdict;
  /** Conditions flagged at the model's operating point, most probable first. */
  findings: { label: string; probability: number; threshold: number }[];
  /** `<task> <version>` of the model that read the study, when known. */
  model: string | null;
}

/** What to draft: the facts, for whom, in which language. */
export interface NoteRequest {
  facts: NoteFacts;
  audience: NoteAudience;
  language: NoteLanguage;
}

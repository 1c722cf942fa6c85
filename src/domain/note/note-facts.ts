import type { BodyPart, GateVerdict, NoteAudience, NoteSource } from '../enums';
import type { NoteLanguage } from './note-language';

/**
 * The structured findings a note is drafted from: the only facts a generator receives. No names, MRNs
 * or dates ever reach a generator, so drafts (and the tokens streamed while they are written) hold no PHI.
 */
export interface NoteFacts {
  bodyPart: BodyPart;
  gateVerdict: GateVerdict;
  /**
   * Whose findings these are: the AI's (flagged at the operating point), or the radiologist's read
   * (signed or a correction), which always wins once it exists. Absent means AI.
   */
  source?: NoteSource;
  /**
   * AI: conditions flagged at the model's operating point, most probable first. RADIOLOGIST: the
   * conditions the radiologist stated present (probability and threshold null); an AI finding the
   * radiologist ruled out is not here, so a note can never state it.
   */
  findings: { label: string; probability: number | null; threshold: number | null }[];
  /** `<task> <version>` of the model that read the study, when known. */
  model: string | null;
}

/** What to draft: the facts, for whom, in which language. */
export interface NoteRequest {
  facts: NoteFacts;
  audience: NoteAudience;
  language: NoteLanguage;
}

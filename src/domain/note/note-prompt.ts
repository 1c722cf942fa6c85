import { GateVerdict, NoteAudience, NoteSource } from '../enums';
import type { NoteRequest } from './note-facts';

const LANGUAGE_NAMES = { en: 'English', es: 'Spanish' } as const;

/** The chat messages an LLM backend sends: rules in the system message, the findings as JSON. */
export interface NotePrompt {
  system: string;
  user: string;
}

/**
 * Builds the prompt for LLM backends. The rules mirror the safety checks, which run on the answer
 * anyway: a model that ignores them produces a draft marked as failed, never a released note.
 */
export function buildNotePrompt(request: NoteRequest): NotePrompt {
  const { facts, audience, language } = request;
  const patient = audience === NoteAudience.PATIENT;
  const radiologist = facts.source === NoteSource.RADIOLOGIST;
  const system = [
    ...(radiologist
      ? [
          "The findings given are a radiologist's read of the radiograph: state them as the radiologist's, and nothing the AI said besides.",
        ]
      : []),
    'You draft notes about an AI reading of a radiograph. The reading is AI assistance, not a diagnosis.',
    'Use only the findings given. Do not name any other condition, not even to say it is absent.',
    'Say clearly that the result is uncertain and may be wrong, and that a radiologist or doctor must review it.',
    patient
      ? 'Write for the patient: short sentences, everyday words, at about a 6th-grade reading level, no numbers.'
      : 'Write for a clinician: concise, with the calibrated probabilities and thresholds given.',
    `Write in ${LANGUAGE_NAMES[language]}. Reply with the note text only, at most 150 words.`,
  ].join('\n');
  const findings = radiologist
    ? facts.findings.length === 0
      ? 'The radiologist found none of the conditions this reading covers.'
      : JSON.stringify(
          facts.findings.map((f) => ({ condition: f.label.toLowerCase(), read_by: 'radiologist' })),
        )
    : facts.gateVerdict !== GateVerdict.ACCEPTED
      ? `The input gate refused the image (${facts.gateVerdict}); there are no findings.`
      : facts.findings.length === 0
        ? 'No condition was flagged.'
        : JSON.stringify(
            facts.findings.map((f) => ({
              condition: f.label.toLowerCase(),
              probability: Number((f.probability ?? 0).toFixed(3)),
              threshold: Number((f.threshold ?? 0).toFixed(3)),
            })),
          );
  const user = [
    `Body part: ${facts.bodyPart.toLowerCase()}.`,
    facts.model ? `Model: ${facts.model}.` : null,
    `Findings: ${findings}`,
    `Write the ${patient ? 'patient' : 'clinician'} note.`,
  ]
    .filter(Boolean)
    .join('\n');
  return { system, user };
}

import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { NoteAudience, NoteSource, NoteStatus } from '../domain/enums';

@ObjectType('ClinicalNote', {
  description: 'A drafted note about a prediction; released only after approval.',
})
export class ClinicalNoteType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { description: 'The prediction the note is about.' })
  predictionId!: string;

  @Field(() => NoteAudience, { description: 'Who the note is for.' })
  audience!: NoteAudience;

  @Field({ description: 'Language tag, e.g. en.' })
  language!: string;

  @Field({ description: 'Note text.' })
  body!: string;

  @Field(() => NoteStatus, { description: 'DRAFT until a radiologist approves it.' })
  status!: NoteStatus;

  @Field({ description: 'Which generator wrote the draft.' })
  backend!: string;

  @Field(() => GraphQLJSONObject, {
    description:
      'Safety report of the draft: passed, checks [{name, passed, detail}], ungroundedConditions, readability {metric, score, target, words, sentences, syllables}.',
  })
  safetyChecks!: Record<string, unknown>;

  @Field({ description: 'True when the draft passed every safety check; only such a draft can be approved.' })
  releasable!: boolean;

  @Field(() => NoteSource, {
    description: "What the note was drafted from: the AI findings or the radiologist's read.",
  })
  source!: NoteSource;

  @Field(() => [String], { description: 'The conditions the note states as present.' })
  statedFindings!: string[];

  @Field(() => Date, {
    nullable: true,
    description: 'When a later read or correction invalidated the note (status INVALIDATED).',
  })
  invalidatedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the note was invalidated.' })
  invalidationReason!: string | null;

  @Field(() => [String], {
    description:
      'Names of the failed checks (WELL_FORMED, GROUNDED_CONDITIONS, UNCERTAINTY_STATED, CLINICIAN_REVIEW_STATED, READABILITY).',
  })
  failedChecks!: string[];

  @Field({ description: 'The notice every AI output carries.' })
  warning!: string;

  @Field(() => Date, { nullable: true, description: 'When the note was approved.' })
  approvedAt!: Date | null;

  @Field({ description: 'When the draft was written.' })
  createdAt!: Date;
}

@ObjectType('NoteDraftChunk', {
  description: 'A piece of a note draft as it is written (generateNote), or the end of the draft.',
})
export class NoteDraftChunkType {
  @Field(() => ID, { description: 'Id the note has (or would have had) once stored.' })
  noteId!: string;

  @Field(() => ID, { description: 'The prediction the note is about.' })
  predictionId!: string;

  @Field(() => Int, {
    description:
      'Position of this piece, from 0. Delivery order may differ, so sort by it; the last event (done) has the sequence that equals the number of pieces before it, so a client knows when it has them all.',
  })
  sequence!: number;

  @Field({ description: 'Text of this piece (empty on the last event).' })
  text!: string;

  @Field({ description: 'True on the last event of a draft.' })
  done!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'On the last event: the error code when no draft was stored (e.g. NOTE_BACKEND_TIMEOUT).',
  })
  error!: string | null;
}

export const ClinicalNoteConnection = Connection(ClinicalNoteType, 'ClinicalNote');

import { Arg, Ctx, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Permission } from '../auth/policy';
import { NoteAudience } from '../domain/enums';
import type { NoteDraftChunkEvent, NoteService } from '../domain/note/note.service';
import { Topic } from '../domain/shared/events';
import { toNote } from '../schema/note.mappers';
import { ClinicalNoteType, NoteDraftChunkType } from '../schema/note.types';
import { GraphQLContext, subscribeTo } from './context';

/** Clinical notes: drafting (streamed), safety-checked review, and reading. */
@Resolver(() => ClinicalNoteType)
export class NoteResolver {
  constructor(private readonly noteService: NoteService) {}

  @Mutation(() => ClinicalNoteType, {
    description:
      'Drafts a note about a prediction from its structured findings and returns it once stored, as a DRAFT with its safety report; follow the text as it is written with noteDraftStreamed. AI assistance; requires clinician review.',
  })
  async generateNote(
    @Ctx() ctx: GraphQLContext,
    @Arg('predictionId', () => ID, { description: 'The prediction to write about.' }) predictionId: string,
    @Arg('audience', () => NoteAudience, { description: 'Who the note is for.' }) audience: NoteAudience,
    @Arg('language', () => String, { defaultValue: 'en', description: 'Language of the note: en or es.' })
    language: string,
  ): Promise<ClinicalNoteType> {
    return toNote(await this.noteService.generate(ctx, { predictionId, audience, language }));
  }

  @Mutation(() => ClinicalNoteType, {
    description:
      'Approves a draft so integrators can read it (radiologists). Refused with NOTE_FAILED_SAFETY_CHECKS when the draft failed a safety check.',
  })
  async approveNote(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Note id.' }) id: string,
  ): Promise<ClinicalNoteType> {
    return toNote(await this.noteService.approve(ctx, id));
  }

  @Mutation(() => ClinicalNoteType, {
    description: 'Rejects a draft (radiologists); it is never released.',
  })
  async rejectNote(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Note id.' }) id: string,
  ): Promise<ClinicalNoteType> {
    return toNote(await this.noteService.reject(ctx, id));
  }

  @Query(() => ClinicalNoteType, {
    description: 'One clinical note; integrators see approved notes only. Audited.',
  })
  async clinicalNote(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Note id.' }) id: string,
  ): Promise<ClinicalNoteType> {
    return toNote(await this.noteService.get(ctx, id));
  }

  @Subscription(() => NoteDraftChunkType, {
    description:
      'Text of note drafts for one prediction as generateNote writes them; the last event of a draft has done: true.',
    subscribe: subscribeTo<NoteDraftChunkEvent, { predictionId: string }>(
      Topic.NOTE_DRAFT_STREAMED,
      [Permission.SUBSCRIBE, Permission.DRAFT_NOTES],
      { predictionId: 'predictionId' },
    ),
  })
  noteDraftStreamed(
    @Root() event: NoteDraftChunkEvent,
    @Arg('predictionId', () => ID, { description: 'The prediction whose drafts to follow.' })
    _predictionId: string,
  ): NoteDraftChunkType {
    return Object.assign(new NoteDraftChunkType(), event);
  }
}

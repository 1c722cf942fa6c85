import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { NoteStatus } from '../domain/enums';
import type { ReadService } from '../domain/read/read.service';
import { RecordsService } from '../domain/shared/records.service';
import { StudyService } from '../domain/study/study.service';
import { toConnection } from '../schema/connection';
import { PageArgsInput, PredictionFilter } from '../schema/inputs';
import { toCorrection, toNote, toPrediction, toPredictionReview, toStudy } from '../schema/mappers';
import { PredictionReviewType } from '../schema/read.types';
import {
  ClinicalNoteConnection,
  CorrectionConnection,
  PredictionConnection,
  PredictionType,
  StudyType,
} from '../schema/types';
import type { GraphQLContext } from './context';

/** Predictions and what hangs off them (corrections, notes). */
@Resolver(() => PredictionType)
export class PredictionResolver {
  constructor(
    private readonly recordsService: RecordsService,
    private readonly studiesService: StudyService,
    private readonly readService: ReadService,
  ) {}

  @Query(() => PredictionType, { description: 'One prediction by id (radiologists, integrators). Audited.' })
  async prediction(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
  ): Promise<PredictionType> {
    return toPrediction(await this.recordsService.prediction(ctx, id));
  }

  @Query(() => PredictionConnection, {
    description:
      'Predictions, newest first, filtered by study, patient, model version, label, gate verdict or time. Audited.',
  })
  async predictions(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('filter', () => PredictionFilter, {
      nullable: true,
      description: 'Filters; all records when omitted.',
    })
    filter?: PredictionFilter,
  ): Promise<InstanceType<typeof PredictionConnection>> {
    return toConnection(
      PredictionConnection,
      await this.recordsService.predictions(ctx, filter ?? {}, page),
      toPrediction,
    );
  }

  @Query(() => CorrectionConnection, { description: 'Corrections by radiologists, newest first.' })
  async corrections(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('predictionId', () => ID, { nullable: true, description: 'Only this prediction.' })
    predictionId?: string,
  ): Promise<InstanceType<typeof CorrectionConnection>> {
    return toConnection(
      CorrectionConnection,
      await this.recordsService.corrections(ctx, { predictionId }, page),
      toCorrection,
    );
  }

  @Query(() => ClinicalNoteConnection, {
    description: 'Clinical notes, newest first; integrators see approved notes only.',
  })
  async clinicalNotes(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('predictionId', () => ID, { nullable: true, description: 'Only this prediction.' })
    predictionId?: string,
    @Arg('status', () => NoteStatus, {
      nullable: true,
      description: 'Only notes in this review state (integrators always get APPROVED).',
    })
    status?: NoteStatus,
  ): Promise<InstanceType<typeof ClinicalNoteConnection>> {
    return toConnection(
      ClinicalNoteConnection,
      await this.recordsService.notes(ctx, { predictionId, status }, page),
      toNote,
    );
  }

  @FieldResolver(() => PredictionReviewType, {
    nullable: true,
    description:
      "The radiologist's review of this prediction (the study's signed read, else the latest correction), compared with it; null before any.",
  })
  async review(
    @Ctx() ctx: GraphQLContext,
    @Root() prediction: PredictionType,
  ): Promise<PredictionReviewType | null> {
    const review = await this.readService.review(ctx, prediction);
    return review ? toPredictionReview(review) : null;
  }

  @FieldResolver(() => StudyType, { description: 'The study read.' })
  async study(@Ctx() ctx: GraphQLContext, @Root() prediction: PredictionType): Promise<StudyType> {
    return toStudy(await this.studiesService.load(ctx, prediction.studyId));
  }
}

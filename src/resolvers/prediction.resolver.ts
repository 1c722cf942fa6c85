import { Arg, Args, Ctx, FieldResolver, Float, ID, Query, Resolver, Root } from 'type-graphql';
import { GateVerdict, NoteStatus, ReadingOutcome } from '../domain/enums';
import type { ReadService } from '../domain/read/read.service';
import type { SiteValidationService } from '../domain/site/site-validation.service';
import { PredictionService } from '../domain/prediction/prediction.service';
import { CorrectionQueryService } from '../domain/correction/correction-query.service';
import { NoteQueryService } from '../domain/note/note-query.service';
import { StudyService } from '../domain/study/study.service';
import { PageArgsInput, toConnection } from '../schema/connection';
import { toCorrection } from '../schema/correction.mappers';
import { CorrectionConnection } from '../schema/correction.types';
import { toNote } from '../schema/note.mappers';
import { ClinicalNoteConnection } from '../schema/note.types';
import { toPrediction } from '../schema/prediction.mappers';
import {
  ClassProbabilityType,
  FindingAssessmentType,
  FindingType,
  PredictionConnection,
  PredictionFilter,
  PredictionInputType,
  PredictionType,
} from '../schema/prediction.types';
import { toPredictionReview } from '../schema/read.mappers';
import { toSiteOperatingPoint } from '../schema/site.mappers';
import { toStudy } from '../schema/study.mappers';
import { StudyType } from '../schema/study.types';
import { SiteOperatingPointType } from '../schema/site.types';
import { PredictionReviewType } from '../schema/read.types';
import type { GraphQLContext } from './context';

/** Predictions and what hangs off them (corrections, notes). */
@Resolver(() => PredictionType)
export class PredictionResolver {
  constructor(
    private readonly predictionService: PredictionService,
    private readonly correctionQueryService: CorrectionQueryService,
    private readonly noteQueryService: NoteQueryService,
    private readonly studiesService: StudyService,
    private readonly readService: ReadService,
    private readonly siteValidationService: SiteValidationService,
  ) {}

  @Query(() => PredictionType, {
    description:
      'One prediction by id (roles that read patient data; its clinical fields need READ_PREDICTIONS). Audited.',
  })
  async prediction(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
  ): Promise<PredictionType> {
    return toPrediction(await this.predictionService.prediction(ctx, id));
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
      await this.predictionService.predictions(ctx, filter ?? {}, page),
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
      await this.correctionQueryService.corrections(ctx, { predictionId }, page),
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
      await this.noteQueryService.notes(ctx, { predictionId, status }, page),
      toNote,
    );
  }

  @FieldResolver(() => ReadingOutcome, {
    nullable: true,
    description:
      'The primary answer: FLAGGED_FOR_REVIEW when any finding reached its operating point, NOTHING_FLAGGED, or NOT_READ when the gate refused the film. Key on this (or flagged), never on label alone. Needs READ_PREDICTIONS.',
  })
  outcome(@Ctx() ctx: GraphQLContext, @Root() p: PredictionType): ReadingOutcome | null {
    this.predictionService.assertClinicalRead(ctx);
    return p.outcome;
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      'True when the study is flagged for review (outcome FLAGGED_FOR_REVIEW). Needs READ_PREDICTIONS.',
  })
  flagged(@Ctx() ctx: GraphQLContext, @Root() p: PredictionType): boolean | null {
    this.predictionService.assertClinicalRead(ctx);
    return p.flagged;
  }

  @FieldResolver(() => [FindingAssessmentType], {
    nullable: true,
    description:
      'Every finding of the task with its probability, operating point and whether it is flagged (empty when the gate refused the film). Needs READ_PREDICTIONS.',
  })
  assessments(@Ctx() ctx: GraphQLContext, @Root() p: PredictionType): FindingAssessmentType[] | null {
    this.predictionService.assertClinicalRead(ctx);
    return p.assessments;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'Top-1 class (most probable), or null when the input was refused. Never read it alone: the operating points favour recall, so a finding can be flagged while the top class is NORMAL; read outcome/flagged. Needs READ_PREDICTIONS.',
  })
  label(@Ctx() ctx: GraphQLContext, @Root() p: PredictionType): string | null {
    this.predictionService.assertClinicalRead(ctx);
    return p.label;
  }

  @FieldResolver(() => [ClassProbabilityType], {
    nullable: true,
    description: 'Calibrated probabilities per class. Needs READ_PREDICTIONS.',
  })
  probabilities(@Ctx() ctx: GraphQLContext, @Root() p: PredictionType): ClassProbabilityType[] | null {
    this.predictionService.assertClinicalRead(ctx);
    return p.probabilities;
  }

  @FieldResolver(() => [FindingType], {
    nullable: true,
    description:
      'The flagged findings: those that reached their recall-first operating point. Needs READ_PREDICTIONS.',
  })
  findings(@Ctx() ctx: GraphQLContext, @Root() p: PredictionType): FindingType[] | null {
    this.predictionService.assertClinicalRead(ctx);
    return p.findings;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'Path of the class-activation heatmap (PNG) on this API: the map over the film in its proportions, named by its finding, with a colour scale; add ?overlay=false for the bare map. Needs READ_PREDICTIONS.',
  })
  heatmapUrl(@Ctx() ctx: GraphQLContext, @Root() p: PredictionType): string | null {
    this.predictionService.assertClinicalRead(ctx);
    return p.heatmapUrl;
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

  @FieldResolver(() => SiteOperatingPointType, {
    nullable: true,
    description:
      "The site operating point this reading used (temperature, thresholds and the evaluation they rest on), approved for its model version at the study's site; null when it used the shipped one (siteValidated false). Needs READ_PREDICTIONS.",
  })
  async siteOperatingPoint(
    @Ctx() ctx: GraphQLContext,
    @Root() prediction: PredictionType,
  ): Promise<SiteOperatingPointType | null> {
    const point = await this.siteValidationService.operatingPointOfPrediction(
      ctx,
      prediction.siteOperatingPointId,
    );
    return point ? toSiteOperatingPoint(point) : null;
  }

  @FieldResolver(() => StudyType, { description: 'The study read.' })
  async study(@Ctx() ctx: GraphQLContext, @Root() prediction: PredictionType): Promise<StudyType> {
    return toStudy(await this.studiesService.load(ctx, prediction.studyId));
  }
}

/** A view's own reading within a prediction (models that read each view on its own): clinical content. */
@Resolver(() => PredictionInputType)
export class PredictionInputResolver {
  constructor(private readonly predictionService: PredictionService) {}

  @FieldResolver(() => GateVerdict, {
    nullable: true,
    description:
      "This view's input gate verdict (a refused view is one the study lacks); null for models that read the views together. Needs READ_PREDICTIONS.",
  })
  gateVerdict(@Ctx() ctx: GraphQLContext, @Root() i: PredictionInputType): GateVerdict | null {
    this.predictionService.assertClinicalRead(ctx);
    return i.gateVerdict;
  }

  @FieldResolver(() => Float, {
    nullable: true,
    description:
      "This view's calibrated probability of the finding (wrist: FRACTURE); null when refused or for models that read the views together. Needs READ_PREDICTIONS.",
  })
  probability(@Ctx() ctx: GraphQLContext, @Root() i: PredictionInputType): number | null {
    this.predictionService.assertClinicalRead(ctx);
    return i.probability;
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      'Whether this view alone reached the per-view operating point (the study is flagged when any view does). Needs READ_PREDICTIONS.',
  })
  flagged(@Ctx() ctx: GraphQLContext, @Root() i: PredictionInputType): boolean | null {
    this.predictionService.assertClinicalRead(ctx);
    return i.flagged;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      "Path of this view's own heatmap (PNG) on this API (?overlay=false: the bare map); null when refused or for models that read the views together. Needs READ_PREDICTIONS.",
  })
  heatmapUrl(@Ctx() ctx: GraphQLContext, @Root() i: PredictionInputType): string | null {
    this.predictionService.assertClinicalRead(ctx);
    return i.heatmapUrl;
  }
}

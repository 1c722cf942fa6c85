import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Permission } from '../auth/policy';
import { ImageService } from '../domain/image/image.service';
import type { ReadService } from '../domain/read/read.service';
import { PatientService } from '../domain/patient/patient.service';
import { PredictionService } from '../domain/prediction/prediction.service';
import { StudyService } from '../domain/study/study.service';
import { StudyChangedEvent, Topic } from '../domain/shared/events';
import { PageArgsInput, toConnection } from '../schema/connection';
import { toImage } from '../schema/image.mappers';
import { ImageType } from '../schema/image.types';
import { toPatient } from '../schema/patient.mappers';
import { PatientType } from '../schema/patient.types';
import { toPrediction } from '../schema/prediction.mappers';
import { PredictionType } from '../schema/prediction.types';
import { toFinalRead } from '../schema/read.mappers';
import { toStudy, toStudyAtEvent } from '../schema/study.mappers';
import {
  CreateStudyInput,
  StudyConnection,
  StudyEventType,
  StudyFilter,
  StudyType,
  UpdateStudyInput,
} from '../schema/study.types';
import { FinalReadType } from '../schema/read.types';
import { GraphQLContext, subscribeTo } from './context';

/** Studies: registration, reads with relations, and live study events. */
@Resolver(() => StudyType)
export class StudyResolver {
  constructor(
    private readonly studiesService: StudyService,
    private readonly patientsService: PatientService,
    private readonly imagesService: ImageService,
    private readonly predictionService: PredictionService,
    private readonly readService: ReadService,
  ) {}

  @Query(() => StudyType, { description: 'One study by id. Audited.' })
  async study(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
  ): Promise<StudyType> {
    return toStudy(await this.studiesService.get(ctx, id));
  }

  @Query(() => StudyConnection, {
    description:
      'Studies, newest first, filtered by patient, status, body part, priority, time or predicted label. Audited.',
  })
  async studies(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('filter', () => StudyFilter, { nullable: true, description: 'Filters; all records when omitted.' })
    filter?: StudyFilter,
  ): Promise<InstanceType<typeof StudyConnection>> {
    return toConnection(StudyConnection, await this.studiesService.list(ctx, filter ?? {}, page), toStudy);
  }

  @Mutation(() => StudyType, { description: 'Registers a study for a patient (technicians).' })
  async createStudy(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Fields to set.' }) input: CreateStudyInput,
  ): Promise<StudyType> {
    return toStudy(await this.studiesService.create(ctx, input));
  }

  @Mutation(() => StudyType, {
    description:
      'Changes priority or description (technicians). The reading states follow the workflow (startReview, signFinalRead, amendFinalRead).',
  })
  async updateStudy(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
    @Arg('input', { description: 'Fields to set.' }) input: UpdateStudyInput,
  ): Promise<StudyType> {
    return toStudy(await this.studiesService.update(ctx, id, input));
  }

  @FieldResolver(() => PatientType, { description: 'The patient examined. Audited.' })
  async patient(@Ctx() ctx: GraphQLContext, @Root() study: StudyType): Promise<PatientType> {
    return toPatient(await this.patientsService.load(ctx, study.patientId));
  }

  @FieldResolver(() => [ImageType], { description: 'Images attached to the study, oldest first.' })
  async images(@Ctx() ctx: GraphQLContext, @Root() study: StudyType): Promise<ImageType[]> {
    return (await this.imagesService.forStudy(ctx, study.id, study.patientId)).map(toImage);
  }

  @FieldResolver(() => [PredictionType], {
    description:
      'AI predictions for the study, newest first (roles that read patient data; clinical fields need READ_PREDICTIONS).',
  })
  async predictions(@Ctx() ctx: GraphQLContext, @Root() study: StudyType): Promise<PredictionType[]> {
    return (await this.predictionService.predictionsForStudy(ctx, study.id, study.patientId)).map(
      toPrediction,
    );
  }

  @FieldResolver(() => FinalReadType, {
    nullable: true,
    description:
      "The radiologist's read in force (the final read or its latest amendment); null before one is signed (radiologists, integrators).",
  })
  async finalRead(@Ctx() ctx: GraphQLContext, @Root() study: StudyType): Promise<FinalReadType | null> {
    const read = await this.readService.finalRead(ctx, study.id);
    return read ? toFinalRead(read, this.readService.compare(read)) : null;
  }

  @Subscription(() => StudyEventType, {
    description: 'Study created, changed or given an image; optionally for one patient.',
    subscribe: subscribeTo<StudyChangedEvent, { patientId?: string }>(
      Topic.STUDY_CHANGED,
      [Permission.SUBSCRIBE, Permission.READ_PATIENT_DATA],
      { patientId: 'patientId' },
    ),
  })
  async studyEvents(
    @Root() event: StudyChangedEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg('patientId', () => ID, { nullable: true, description: 'Only events of this patient.' })
    _patientId?: string,
  ): Promise<StudyEventType> {
    // The state the event carried, else one read per event shared by every group (audited per recipient).
    const study = event.snapshot
      ? toStudyAtEvent(this.studiesService.atEvent(ctx, event.snapshot))
      : toStudy(await this.studiesService.load(ctx, event.studyId));
    return Object.assign(new StudyEventType(), { change: event.change, study });
  }
}

import { Arg, Ctx, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Permission } from '../auth/policy';
import { AnalysisJobService } from '../domain/analysis/analysis-job.service';
import { AnalysisService } from '../domain/analysis/analysis.service';
import { PredictionService } from '../domain/prediction/prediction.service';
import { Topic } from '../domain/shared/events';
import { toAnalysisJob } from '../schema/analysis.mappers';
import { AnalysisJobType } from '../schema/analysis.types';
import { toPrediction } from '../schema/prediction.mappers';
import { PredictionType } from '../schema/prediction.types';
import { GraphQLContext, subscribeTo } from './context';

/** Payload of PREDICTION_COMPLETED. */
interface PredictionCompletedEvent {
  predictionId: string;
  studyId: string;
  patientId: string;
}

/** Payload of ANALYSIS_JOB_UPDATED. */
interface AnalysisJobUpdatedEvent {
  analysisJobId: string;
}

/** Analysis: synchronous reads, batch jobs, and live results. */
@Resolver()
export class AnalysisResolver {
  constructor(
    private readonly analysisService: AnalysisService,
    private readonly jobService: AnalysisJobService,
    private readonly predictionService: PredictionService,
  ) {}

  @Mutation(() => PredictionType, {
    description:
      'Analyses a study now and returns the prediction (AI assistance; requires clinician review). A study whose images have not changed since its last reading gets that reading back; reread: true reads it again (the new prediction links to the earlier one in rereadOfId).',
  })
  async analyzeStudy(
    @Ctx() ctx: GraphQLContext,
    @Arg('studyId', () => ID, { description: 'Study id.' }) studyId: string,
    @Arg('reread', () => Boolean, {
      defaultValue: false,
      description: 'Read again even when the study has not changed.',
    })
    reread: boolean,
  ): Promise<PredictionType> {
    return toPrediction((await this.analysisService.analyzeStudy(ctx, studyId, { reread })).prediction);
  }

  @Mutation(() => AnalysisJobType, {
    description: 'Queues studies for analysis as a durable batch job; follow it with analysisJobUpdated.',
  })
  async submitStudies(
    @Ctx() ctx: GraphQLContext,
    @Arg('studyIds', () => [ID], { description: 'Studies to analyse (1 to 10,000).' }) studyIds: string[],
  ): Promise<AnalysisJobType> {
    return toAnalysisJob(await this.jobService.submit(ctx, studyIds));
  }

  @Query(() => AnalysisJobType, { description: 'A batch analysis job and its progress.' })
  async analysisJob(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
  ): Promise<AnalysisJobType> {
    return toAnalysisJob(await this.jobService.get(ctx, id));
  }

  @Subscription(() => PredictionType, {
    description:
      'A prediction was recorded; optionally only for one patient or one study. Its clinical fields need READ_PREDICTIONS (others get FORBIDDEN on those fields only).',
    subscribe: subscribeTo<PredictionCompletedEvent, { patientId?: string; studyId?: string }>(
      Topic.PREDICTION_COMPLETED,
      [Permission.SUBSCRIBE, Permission.READ_PATIENT_DATA],
      { studyId: 'studyId', patientId: 'patientId' },
    ),
  })
  async predictionCompleted(
    @Root() event: PredictionCompletedEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg('patientId', () => ID, { nullable: true, description: 'Only this patient.' }) _patientId?: string,
    @Arg('studyId', () => ID, { nullable: true, description: 'Only this study.' }) _studyId?: string,
  ): Promise<PredictionType> {
    return toPrediction(await this.predictionService.prediction(ctx, event.predictionId));
  }

  @Subscription(() => AnalysisJobType, {
    description: 'Progress of batch analysis jobs; optionally of one job.',
    subscribe: subscribeTo<AnalysisJobUpdatedEvent, { jobId?: string }>(
      Topic.ANALYSIS_JOB_UPDATED,
      [Permission.SUBSCRIBE, Permission.READ_ANALYSIS_JOBS],
      { jobId: 'analysisJobId' },
    ),
  })
  async analysisJobUpdated(
    @Root() event: AnalysisJobUpdatedEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg('jobId', () => ID, { nullable: true, description: 'Only this job.' }) _jobId?: string,
  ): Promise<AnalysisJobType> {
    return toAnalysisJob(await this.jobService.get(ctx, event.analysisJobId));
  }
}

import {
  Arg,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Permission } from '../auth/policy';
import type { SiteService } from '../domain/site/site.service';
import type {
  SiteValidationChangedEvent,
  SiteValidationService,
} from '../domain/site/site-validation.service';
import { Topic } from '../domain/shared/events';
import {
  toSite,
  toSiteEvaluation,
  toSiteOperatingPoint,
  toSiteValidation,
  toValidationSet,
} from '../schema/site.mappers';
import {
  AddSiteValidationStudiesInput,
  CreateSiteInput,
  SiteEvaluationType,
  SiteOperatingPointType,
  SiteType,
  SiteValidationEventType,
  SiteValidationSetType,
  SiteValidationType,
} from '../schema/site.types';
import { GraphQLContext, subscribeTo } from './context';

/** Sites, their validation sets and evaluations, site operating points, and validation events. */
@Resolver()
export class SiteResolver {
  constructor(
    private readonly siteService: SiteService,
    private readonly validationService: SiteValidationService,
  ) {}

  @Query(() => [SiteType], { description: 'Every site, the default first (anyone signed in).' })
  async sites(@Ctx() ctx: GraphQLContext): Promise<SiteType[]> {
    return (await this.siteService.list(ctx)).map(toSite);
  }

  @Query(() => SiteValidationType, {
    description:
      "How a model version stands at a site: validated or not, the approved operating point, the latest evaluation (AUROC, recall/specificity with intervals, calibration, gate refusals), the rollout gate and the validation set's counts (admins, radiologists, integrators; no patient data).",
  })
  async siteValidation(
    @Ctx() ctx: GraphQLContext,
    @Arg('siteId', () => ID, { description: 'Site id.' }) siteId: string,
    @Arg('modelVersionId', () => ID, { description: 'Model version id.' }) modelVersionId: string,
  ): Promise<SiteValidationType> {
    return toSiteValidation(await this.validationService.status(ctx, siteId, modelVersionId));
  }

  @Mutation(() => SiteType, { description: 'Registers a site (admins). Audited.' })
  async createSite(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Code and name.' }) input: CreateSiteInput,
  ): Promise<SiteType> {
    return toSite(await this.siteService.create(ctx, input));
  }

  @Mutation(() => [SiteValidationSetType], {
    description:
      "Adds labelled studies (already in the system, with a film) to a site's validation set (admins, radiologists). Every row is checked first; a bad row is refused by its index (SITE_LABELS_INVALID, details.row) and nothing is stored. Radiologists' reads of the site's studies join the set by themselves. Returns the set of each task touched. Audited.",
  })
  async addSiteValidationStudies(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Site and labelled studies.' }) input: AddSiteValidationStudiesInput,
  ): Promise<SiteValidationSetType[]> {
    return (await this.validationService.addStudies(ctx, input.siteId, input.items)).map(toValidationSet);
  }

  @Mutation(() => SiteEvaluationType, {
    description:
      "Queues an evaluation of a model version on a site's validation set (admins); follow it with siteValidationChanged or siteValidation. SITE_VALIDATION_SET_INSUFFICIENT when the set is empty or one class. Audited.",
  })
  async evaluateSite(
    @Ctx() ctx: GraphQLContext,
    @Arg('siteId', () => ID, { description: 'Site id.' }) siteId: string,
    @Arg('modelVersionId', () => ID, { description: 'Model version id.' }) modelVersionId: string,
    @Arg('targetRecall', () => Float, {
      nullable: true,
      description:
        "Recall target of every finding (0..1); each finding's shipped target when omitted (98% chest).",
    })
    targetRecall?: number,
  ): Promise<SiteEvaluationType> {
    return toSiteEvaluation(
      await this.validationService.requestEvaluation(ctx, siteId, modelVersionId, targetRecall),
    );
  }

  @Mutation(() => SiteOperatingPointType, {
    description:
      "Approves the site operating point an evaluation proposes (admins): the site's predictions by that version use it from now on and say siteValidated; it also passes the version's rollout gate at the site. SITE_OPERATING_POINT_NOT_APPROVABLE unless the evaluation succeeded with at least one finding chosen on the site's positives. Audited.",
  })
  async approveSiteOperatingPoint(
    @Ctx() ctx: GraphQLContext,
    @Arg('evaluationId', () => ID, { description: 'A succeeded site evaluation.' }) evaluationId: string,
  ): Promise<SiteOperatingPointType> {
    return toSiteOperatingPoint(await this.validationService.approve(ctx, evaluationId));
  }

  @Subscription(() => SiteValidationEventType, {
    description:
      "A site's validation status changed (evaluation queued, finished or failed; operating point approved; rollout gate pending, passed or failed); optionally one site only.",
    subscribe: subscribeTo<SiteValidationChangedEvent, { siteId?: string }>(
      Topic.SITE_VALIDATION_CHANGED,
      [Permission.SUBSCRIBE, Permission.READ_SITE_VALIDATION],
      { siteId: 'siteId' },
    ),
  })
  async siteValidationChanged(
    @Root() event: SiteValidationChangedEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg('siteId', () => ID, { nullable: true, description: 'Only this site.' }) _siteId?: string,
  ): Promise<SiteValidationEventType> {
    const status = await this.validationService.statusOfEvent(ctx, event);
    return Object.assign(new SiteValidationEventType(), {
      change: event.change,
      evaluationId: event.evaluationId,
      validation: toSiteValidation(status),
    });
  }
}

/** The evaluation a site operating point rests on. */
@Resolver(() => SiteOperatingPointType)
export class SiteOperatingPointResolver {
  constructor(private readonly validationService: SiteValidationService) {}

  @FieldResolver(() => SiteEvaluationType, {
    description: 'The evaluation it rests on (READ_SITE_VALIDATION).',
  })
  async evaluation(
    @Ctx() ctx: GraphQLContext,
    @Root() point: SiteOperatingPointType,
  ): Promise<SiteEvaluationType> {
    return toSiteEvaluation(await this.validationService.evaluation(ctx, point.evaluationId));
  }
}

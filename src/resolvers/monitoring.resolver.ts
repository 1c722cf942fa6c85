import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Permission } from '../auth/policy';
import type { DriftCheck } from '../domain/drift/drift-check.entity';
import { DriftDetectedEvent, DriftService } from '../domain/drift/drift.service';
import { DashboardOverviewService } from '../domain/dashboard/dashboard-overview.service';
import { DriftAlertStatus, DriftWindowKind } from '../domain/enums';
import { AI_ASSISTANCE_WARNING } from '../domain/prediction/ai-assistance';
import { Topic } from '../domain/shared/events';
import { toDriftAlert } from '../schema/monitoring.mappers';
import { DriftAlertType, DriftCheckType, MonitoringOverviewType } from '../schema/monitoring.types';
import { GraphQLContext, subscribeTo } from './context';

const toDriftCheck = (c: DriftCheck): DriftCheckType =>
  Object.assign(new DriftCheckType(), {
    id: c.id,
    modelVersionId: c.modelVersion.id,
    windowKind: c.windowKind,
    windowStart: c.windowStart,
    windowEnd: c.windowEnd,
    windowSize: c.windowSize,
    drifted: c.drifted,
    signals: c.signals.map((s) => ({ ...s })),
  });

/** Drift checks and alerts, the monitoring overview, and live drift alerts. */
@Resolver()
export class MonitoringResolver {
  constructor(
    private readonly driftService: DriftService,
    private readonly dashboardOverview: DashboardOverviewService,
  ) {}

  @Query(() => [DriftCheckType], {
    description: 'Drift checks (per-signal statistics of each tested window), oldest first.',
  })
  async driftChecks(
    @Ctx() ctx: GraphQLContext,
    @Arg('modelVersionId', () => ID, { nullable: true, description: 'Only this model version.' })
    modelVersionId?: string,
    @Arg('windowKind', () => DriftWindowKind, { nullable: true, description: 'Only windows of this kind.' })
    windowKind?: DriftWindowKind,
    @Arg('since', () => Date, { nullable: true, description: 'Only windows ending at or after this time.' })
    since?: Date,
    @Arg('limit', () => Int, {
      defaultValue: 200,
      description: 'Most recent checks to return (at most 1000).',
    })
    limit = 200,
  ): Promise<DriftCheckType[]> {
    const checks = await this.driftService.checks(ctx, {
      modelVersionId,
      windowKind: windowKind ?? null,
      since,
      limit: Math.min(Math.max(limit, 1), 1000),
    });
    return checks.map(toDriftCheck);
  }

  @Query(() => MonitoringOverviewType, {
    description: 'Model versions, throughput, latency and recent predictions (no patient data).',
  })
  async monitoringOverview(
    @Ctx() ctx: GraphQLContext,
    @Arg('minutes', () => Int, { defaultValue: 60, description: 'Period to cover (1 to 1440 minutes).' })
    minutes = 60,
    @Arg('recent', () => Int, { defaultValue: 15, description: 'Recent predictions to list (1 to 100).' })
    recent = 15,
  ): Promise<MonitoringOverviewType> {
    const o = await this.dashboardOverview.overview(ctx, minutes, recent);
    const t = this.driftService.thresholds;
    return Object.assign(new MonitoringOverviewType(), {
      modelVersions: o.modelVersions.map((mv) => ({
        id: mv.id,
        task: mv.task,
        version: mv.version,
        stage: mv.stage,
        trafficShare: mv.trafficShare,
        hasReferenceProfile: this.driftService.hasProfile(mv),
      })),
      throughput: o.throughput,
      bucketMinutes: o.bucketMinutes,
      recentPredictions: o.recentPredictions,
      drift: {
        enabled: this.driftService.enabled,
        windowSize: t.windowSize,
        timeWindowMinutes: t.timeWindowMinutes,
        minWindowSize: t.minWindowSize,
        alpha: t.alpha,
        psiThreshold: t.psiThreshold,
        permutations: t.permutations,
      },
      corrections: o.corrections,
      warning: AI_ASSISTANCE_WARNING,
    });
  }

  @Mutation(() => DriftAlertType, { description: 'Acknowledges an open drift alert (technicians, admins).' })
  async acknowledgeDriftAlert(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Drift alert id.' }) id: string,
  ): Promise<DriftAlertType> {
    return toDriftAlert(await this.driftService.setStatus(ctx, id, DriftAlertStatus.ACKNOWLEDGED));
  }

  @Mutation(() => DriftAlertType, { description: 'Resolves a drift alert (technicians, admins).' })
  async resolveDriftAlert(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Drift alert id.' }) id: string,
  ): Promise<DriftAlertType> {
    return toDriftAlert(await this.driftService.setStatus(ctx, id, DriftAlertStatus.RESOLVED));
  }

  @Subscription(() => DriftAlertType, {
    description: 'A drift alert was raised; optionally only for one model version.',
    subscribe: subscribeTo<DriftDetectedEvent, { modelVersionId?: string }>(
      Topic.DRIFT_DETECTED,
      [Permission.SUBSCRIBE, Permission.READ_MONITORING],
      { modelVersionId: 'modelVersionId' },
    ),
  })
  async driftDetected(
    @Root() event: DriftDetectedEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg('modelVersionId', () => ID, { nullable: true, description: 'Only this model version.' })
    _modelVersionId?: string,
  ): Promise<DriftAlertType> {
    return toDriftAlert(await this.driftService.alert(ctx, event.driftAlertId));
  }
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { NotFoundError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { Topic } from '../shared/events';
import { AuditAction, ModelStage, ModelStageChangeKind, ModelTask } from '../enums';
import type { EventPublisher } from '../shared/event-publisher';
import { flushUnique } from '../shared/flush-unique';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { User } from '../user/user.entity';
import { lockTaskRegistry } from './model-registry.service';
import type { ModelServing, ModelVersionChangedEvent } from './model-serving';
import { ModelStageChange } from './model-stage-change.entity';
import { planRollout, RolloutAction, StageChange } from './model-transitions';
import { ModelVersion } from './model-version.entity';

/**
 * Told inside a promotion's transaction that `promoted` became PRODUCTION in place of `replaced` (the
 * per-site rollout gate); returns what to run after the commit.
 */
export interface PromotionListener {
  onPromotion(
    em: EntityManager,
    promoted: ModelVersion,
    replaced: ModelVersion | null,
  ): Promise<() => Promise<void>>;
}

/**
 * Promotions and rollbacks (admins only). Each runs in one transaction under the task's registry lock:
 * plan the legal transition from the current rows (or refuse with ILLEGAL_MODEL_TRANSITION), load any
 * version about to serve (so broken weights refuse the rollout before it commits), update the rows,
 * write the stage history and an audit event per changed version. After the commit it publishes
 * MODEL_VERSION_CHANGED, which every process (this one included) applies to its engine without a restart.
 */
export class ModelRolloutService {
  constructor(
    private readonly rootEm: EntityManager,
    private readonly serving: ModelServing,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    private readonly promotions: PromotionListener | null = null,
  ) {}

  /** STAGING → CANARY with a share of studies in (0, 1]. */
  startCanary(ctx: RequestContext, id: string, trafficShare: number): Promise<ModelVersion> {
    return this.apply(ctx, { kind: 'START_CANARY', modelVersionId: id, trafficShare });
  }

  /** Changes the share of a running canary. */
  setCanaryShare(ctx: RequestContext, id: string, trafficShare: number): Promise<ModelVersion> {
    return this.apply(ctx, { kind: 'SET_CANARY_SHARE', modelVersionId: id, trafficShare });
  }

  /** CANARY → PRODUCTION; the previous production version is archived and becomes the rollback target. */
  promote(ctx: RequestContext, id: string): Promise<ModelVersion> {
    return this.apply(ctx, { kind: 'PROMOTE', modelVersionId: id });
  }

  /** STAGING or CANARY → ARCHIVED (stops a canary). */
  archive(ctx: RequestContext, id: string): Promise<ModelVersion> {
    return this.apply(ctx, { kind: 'ARCHIVE', modelVersionId: id });
  }

  /** Archives the production version of a task and restores the one it replaced; returns the restored one. */
  rollback(ctx: RequestContext, task: ModelTask): Promise<ModelVersion> {
    return this.apply(ctx, { kind: 'ROLLBACK', task });
  }

  private async apply(ctx: RequestContext, action: RolloutAction): Promise<ModelVersion> {
    const principal = assertPermission(ctx.principal, Permission.MANAGE_MODELS);
    let task: ModelTask;
    if (action.kind === 'ROLLBACK') task = action.task;
    else {
      const named = isUuid(action.modelVersionId)
        ? await ctx.em.getRepository(ModelVersion).findOne({ id: action.modelVersionId })
        : null;
      if (!named) throw NotFoundError.of('ModelVersion', action.modelVersionId);
      task = named.task;
    }

    const { plan, rows, afterCommit } = await this.rootEm.fork().transactional(async (em) => {
      await lockTaskRegistry(em, task);
      const rows = new Map((await em.getRepository(ModelVersion).findOfTask(task)).map((v) => [v.id, v]));
      const plan = planRollout(
        action,
        [...rows.values()].map((v) => ({
          id: v.id,
          task: v.task,
          stage: v.stage,
          trafficShare: v.trafficShare,
          previousProductionId: v.previousProduction?.id ?? null,
        })),
      );
      for (const change of plan) {
        if (change.from !== change.to && change.to !== ModelStage.ARCHIVED)
          await this.serving.preload(rows.get(change.id)!);
      }
      const now = new Date();
      for (const change of plan) {
        const v = rows.get(change.id)!;
        v.stage = change.to;
        v.trafficShare = change.trafficShare;
        if (change.promoted) {
          v.promotedBy = em.getReference(User, principal.userId);
          v.promotedAt = now;
        }
        if (change.previousProductionId !== undefined)
          v.previousProduction = change.previousProductionId ? rows.get(change.previousProductionId)! : null;
        em.create(ModelStageChange, {
          modelVersion: v,
          task,
          kind: change.kind,
          fromStage: change.from,
          toStage: change.to,
          trafficShare: change.trafficShare,
          actor: em.getReference(User, principal.userId),
          actorRole: principal.role,
          requestId: ctx.requestId,
        } as ModelStageChange);
        ctx.audit.write(em, { action: AuditAction.UPDATE, entityType: 'ModelVersion', entityId: v.id });
        // One statement per change, demotions first: the one-PRODUCTION/one-CANARY indexes hold throughout.
        await flushUnique(em, 'Another rollout of this task changed it first', 'stage');
      }
      const promotion = plan.find(
        (c) => c.kind === ModelStageChangeKind.PROMOTED && c.to === ModelStage.PRODUCTION,
      );
      const afterCommit =
        promotion && this.promotions
          ? await this.promotions.onPromotion(
              em,
              rows.get(promotion.id)!,
              promotion.previousProductionId ? (rows.get(promotion.previousProductionId) ?? null) : null,
            )
          : null;
      return { plan, rows, afterCommit };
    });

    for (const change of plan) this.announce(rows.get(change.id)!, change);
    this.logger.info(
      {
        task,
        action: action.kind,
        changes: plan.map((c) => `${rows.get(c.id)!.version}:${c.from}->${c.to}`),
      },
      'model rollout applied',
    );
    // This process applies it now; the others on the event (or on their next reconcile).
    await this.serving.reconcile();
    await afterCommit?.();
    return rows.get(action.kind === 'ROLLBACK' ? plan[plan.length - 1].id : action.modelVersionId)!;
  }

  private announce(v: ModelVersion, change: StageChange): void {
    const event: ModelVersionChangedEvent = {
      modelVersionId: v.id,
      task: v.task,
      version: v.version,
      stage: change.to,
      previousStage: change.from,
      kind: change.kind,
    };
    this.events.publish(Topic.MODEL_VERSION_CHANGED, event as unknown as Record<string, unknown>);
  }
}

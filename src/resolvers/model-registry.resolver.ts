import { Arg, Ctx, Float, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Permission } from '../auth/policy';
import type { ModelLineageService } from '../domain/model-version/model-lineage.service';
import type { ModelRolloutService } from '../domain/model-version/model-rollout.service';
import type { ModelVersionChangedEvent } from '../domain/model-version/model-serving';
import { Topic } from '../domain/shared/events';
import { ModelTask } from '../domain/enums';
import { toModelLineage, toModelVersion } from '../schema/model-registry.mappers';
import { ModelLineageType, ModelVersionChangeType, ModelVersionType } from '../schema/model-registry.types';
import { GraphQLContext, subscribeTo } from './context';

/** Model rollout (admins), lineage (model readers) and live registry events. */
@Resolver()
export class ModelRegistryResolver {
  constructor(
    private readonly rolloutService: ModelRolloutService,
    private readonly lineageService: ModelLineageService,
  ) {}

  @Mutation(() => ModelVersionType, {
    description:
      'Starts a canary (STAGING to CANARY): the given share of studies is read by this version (admins).',
  })
  async startCanary(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Model version id.' }) id: string,
    @Arg('trafficShare', () => Float, { description: 'Share of studies, greater than 0 and at most 1.' })
    trafficShare: number,
  ): Promise<ModelVersionType> {
    return toModelVersion(await this.rolloutService.startCanary(ctx, id, trafficShare));
  }

  @Mutation(() => ModelVersionType, { description: "Changes a running canary's traffic share (admins)." })
  async setCanaryShare(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Model version id (a CANARY).' }) id: string,
    @Arg('trafficShare', () => Float, { description: 'Share of studies, greater than 0 and at most 1.' })
    trafficShare: number,
  ): Promise<ModelVersionType> {
    return toModelVersion(await this.rolloutService.setCanaryShare(ctx, id, trafficShare));
  }

  @Mutation(() => ModelVersionType, {
    description:
      'Promotes the canary to PRODUCTION; the previous production version is archived and becomes the rollback target (admins).',
  })
  async promoteModelVersion(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Model version id (a CANARY).' }) id: string,
  ): Promise<ModelVersionType> {
    return toModelVersion(await this.rolloutService.promote(ctx, id));
  }

  @Mutation(() => ModelVersionType, {
    description: 'Archives a STAGING or CANARY version; archiving a canary stops it (admins).',
  })
  async archiveModelVersion(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Model version id.' }) id: string,
  ): Promise<ModelVersionType> {
    return toModelVersion(await this.rolloutService.archive(ctx, id));
  }

  @Mutation(() => ModelVersionType, {
    description:
      'Rolls a task back: archives its PRODUCTION version and restores the one that version replaced; returns the restored version (admins).',
  })
  async rollbackModelVersion(
    @Ctx() ctx: GraphQLContext,
    @Arg('task', () => ModelTask, { description: 'Task to roll back.' }) task: ModelTask,
  ): Promise<ModelVersionType> {
    return toModelVersion(await this.rolloutService.rollback(ctx, task));
  }

  @Query(() => ModelLineageType, {
    description:
      'Lineage of a model version: parents, training run, dataset manifest and counts, gate, promotions (admins, radiologists).',
  })
  async modelLineage(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Model version id.' }) id: string,
  ): Promise<ModelLineageType> {
    return toModelLineage(await this.lineageService.lineage(ctx, id));
  }

  @Subscription(() => ModelVersionChangeType, {
    description: 'A model version changed stage or canary share; optionally only for one task.',
    subscribe: subscribeTo<ModelVersionChangedEvent, { task?: ModelTask }>(
      Topic.MODEL_VERSION_CHANGED,
      [Permission.SUBSCRIBE, Permission.READ_MODELS],
      { task: 'task' },
    ),
  })
  async modelVersionChanged(
    @Root() event: ModelVersionChangedEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg('task', () => ModelTask, { nullable: true, description: 'Only this task.' }) _task?: ModelTask,
  ): Promise<ModelVersionChangeType> {
    const version = await this.lineageService.version(ctx, event.modelVersionId);
    return Object.assign(new ModelVersionChangeType(), {
      kind: event.kind,
      fromStage: event.previousStage,
      toStage: event.stage,
      modelVersion: toModelVersion(version),
    });
  }
}

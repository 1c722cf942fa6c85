import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { AuditTrailService } from '../domain/audit/audit-trail.service';
import { DriftAlertQueryService } from '../domain/drift/drift-alert-query.service';
import { ModelVersionQueryService } from '../domain/model-version/model-version-query.service';
import { TrainingRunQueryService } from '../domain/training-run/training-run-query.service';
import { UserService } from '../domain/user/user.service';
import { toAuditEvent } from '../schema/audit.mappers';
import { AuditEventConnection, AuditEventFilter } from '../schema/audit.types';
import { PageArgsInput, toConnection } from '../schema/connection';
import { toModelVersion } from '../schema/model-registry.mappers';
import { ModelVersionConnection, ModelVersionFilter } from '../schema/model-registry.types';
import { toDriftAlert } from '../schema/monitoring.mappers';
import { DriftAlertConnection } from '../schema/monitoring.types';
import { toTrainingRun } from '../schema/retraining.mappers';
import { TrainingRunConnection } from '../schema/retraining.types';
import { DateRangeInput } from '../schema/shared.inputs';
import { toUser } from '../schema/user.mappers';
import {
  CreateUserInput,
  IssueTokenInput,
  IssuedTokenType,
  UserConnection,
  UserType,
} from '../schema/user.types';
import { DriftAlertStatus, ModelTask } from '../domain/enums';
import type { GraphQLContext } from './context';

/** Users, tokens, the model registry, training runs, drift alerts and the audit trail. */
@Resolver()
export class AdminResolver {
  constructor(
    private readonly usersService: UserService,
    private readonly modelVersionQueryService: ModelVersionQueryService,
    private readonly trainingRunQueryService: TrainingRunQueryService,
    private readonly driftAlertQueryService: DriftAlertQueryService,
    private readonly auditTrailService: AuditTrailService,
  ) {}

  @Query(() => UserType, { description: 'The caller.' })
  async me(@Ctx() ctx: GraphQLContext): Promise<UserType> {
    return toUser(await this.usersService.me(ctx));
  }

  @Query(() => UserConnection, { description: 'Users (admins).' })
  async users(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
  ): Promise<InstanceType<typeof UserConnection>> {
    return toConnection(UserConnection, await this.usersService.list(ctx, page), toUser);
  }

  @Mutation(() => UserType, { description: 'Creates a user (admins).' })
  async createUser(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Fields to set.' }) input: CreateUserInput,
  ): Promise<UserType> {
    return toUser(await this.usersService.create(ctx, input));
  }

  @Mutation(() => UserType, { description: 'Deactivates a user; its tokens stop working at once (admins).' })
  async deactivateUser(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
  ): Promise<UserType> {
    return toUser(await this.usersService.deactivate(ctx, id));
  }

  @Mutation(() => IssuedTokenType, {
    description:
      'Mints a bearer token for a user (admins). The token is shown once. Users whose role reads patient data get theirs from the operators (npm run token:mint), never through the API: FORBIDDEN.',
  })
  async issueToken(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Fields to set.' }) input: IssueTokenInput,
  ): Promise<IssuedTokenType> {
    const issued = await this.usersService.issueToken(ctx, input.userId, input.ttlSeconds);
    return Object.assign(new IssuedTokenType(), {
      token: issued.token,
      expiresAt: issued.expiresAt,
      user: toUser(issued.user),
    });
  }

  @Query(() => ModelVersionConnection, { description: 'The model registry (admins, radiologists).' })
  async modelVersions(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('filter', () => ModelVersionFilter, {
      nullable: true,
      description: 'Filters; all records when omitted.',
    })
    filter?: ModelVersionFilter,
  ): Promise<InstanceType<typeof ModelVersionConnection>> {
    return toConnection(
      ModelVersionConnection,
      await this.modelVersionQueryService.modelVersions(ctx, filter ?? {}, page),
      toModelVersion,
    );
  }

  @Query(() => TrainingRunConnection, { description: 'Training runs (admins, radiologists).' })
  async trainingRuns(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('task', () => ModelTask, { nullable: true, description: 'Only this task.' }) task?: ModelTask,
  ): Promise<InstanceType<typeof TrainingRunConnection>> {
    return toConnection(
      TrainingRunConnection,
      await this.trainingRunQueryService.trainingRuns(ctx, { task }, page),
      toTrainingRun,
    );
  }

  @Query(() => DriftAlertConnection, { description: 'Drift alerts, newest first.' })
  async driftAlerts(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('createdAt', () => DateRangeInput, {
      nullable: true,
      description: 'Only alerts raised in this interval.',
    })
    createdAt?: DateRangeInput,
    @Arg('status', () => DriftAlertStatus, { nullable: true, description: 'Only alerts in this state.' })
    status?: DriftAlertStatus,
  ): Promise<InstanceType<typeof DriftAlertConnection>> {
    return toConnection(
      DriftAlertConnection,
      await this.driftAlertQueryService.driftAlerts(ctx, { createdAt, status }, page),
      toDriftAlert,
    );
  }

  @Query(() => AuditEventConnection, {
    description: 'The audit trail, newest first (admins). Read-only: no mutation can change it.',
  })
  async auditEvents(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('filter', () => AuditEventFilter, {
      nullable: true,
      description: 'Filters; all records when omitted.',
    })
    filter?: AuditEventFilter,
  ): Promise<InstanceType<typeof AuditEventConnection>> {
    return toConnection(
      AuditEventConnection,
      await this.auditTrailService.auditEvents(ctx, filter ?? {}, page),
      toAuditEvent,
    );
  }
}

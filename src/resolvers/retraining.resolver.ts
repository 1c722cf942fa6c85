import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { RetrainingService } from '../domain/training-run/retraining.service';
import { ModelTask } from '../domain/enums';
import { toTrainingRun } from '../schema/retraining.mappers';
import { TrainingRunType } from '../schema/retraining.types';
import type { GraphQLContext } from './context';

/** Retraining from corrections, behind the evaluation gate. */
@Resolver()
export class RetrainingResolver {
  constructor(private readonly retraining: RetrainingService) {}

  @Mutation(() => TrainingRunType, {
    description:
      'Queues a retraining run of a task (admins): original data + corrections, trained, evaluated, and registered as STAGING only if it passes the gate.',
  })
  async startRetraining(
    @Ctx() ctx: GraphQLContext,
    @Arg('task', () => ModelTask, { description: 'Task to retrain.' }) task: ModelTask,
  ): Promise<TrainingRunType> {
    return toTrainingRun(await this.retraining.start(ctx, task));
  }

  @Query(() => TrainingRunType, { description: 'One training run with its phase, metrics and gate verdict.' })
  async trainingRun(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
  ): Promise<TrainingRunType> {
    return toTrainingRun(await this.retraining.get(ctx, id));
  }
}

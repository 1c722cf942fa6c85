import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelStage, ModelTask } from '../enums';
import { TrainingRun } from '../training-run/training-run.entity';
import { User } from '../user/user.entity';
import { ModelVersionRepository } from './model-version.repository';

/**
 * A registered model version: weights under `models/<task>/<version>/` plus its manifest.
 * Partial unique indexes keep at most one PRODUCTION and one CANARY version per task, whatever
 * writes the table (the rollout service also serialises its transactions per task).
 */
@Entity({ repository: () => ModelVersionRepository })
@Unique({ properties: ['task', 'version'] })
@Index({
  name: 'model_version_one_production_per_task',
  expression: `create unique index "model_version_one_production_per_task" on "model_version" ("task") where "stage" = 'PRODUCTION'`,
})
@Index({
  name: 'model_version_one_canary_per_task',
  expression: `create unique index "model_version_one_canary_per_task" on "model_version" ("task") where "stage" = 'CANARY'`,
})
export class ModelVersion extends BaseEntity {
  [EntityRepositoryType]?: ModelVersionRepository;

  @Enum({ items: () => ModelTask })
  task!: ModelTask;

  @Property({ type: 'text' })
  version!: string;

  @Enum({ items: () => ModelStage })
  stage: ModelStage = ModelStage.STAGING;

  /** Share of studies routed to this version while it is CANARY (0..1). */
  @Property({ type: 'double precision', default: 0 })
  trafficShare: number = 0;

  @Property({ type: 'text' })
  artifactPath!: string;

  @Property({ type: 'string', columnType: 'char(64)', nullable: true })
  manifestSha256?: string | null;

  @Property({ type: 'jsonb', nullable: true })
  metrics?: Record<string, unknown> | null;

  @ManyToOne(() => ModelVersion, { nullable: true, deleteRule: 'set null' })
  parent?: ModelVersion | null;

  @ManyToOne(() => TrainingRun, { nullable: true, deleteRule: 'set null' })
  trainingRun?: TrainingRun | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  promotedBy?: User | null;

  /** When it was last promoted (to CANARY or PRODUCTION, or restored by a rollback). */
  @Property({ type: 'timestamptz', nullable: true })
  promotedAt?: Date | null;

  /** The PRODUCTION version this one replaced when it was promoted: where a rollback returns to. */
  @ManyToOne(() => ModelVersion, { nullable: true, deleteRule: 'set null' })
  previousProduction?: ModelVersion | null;
}

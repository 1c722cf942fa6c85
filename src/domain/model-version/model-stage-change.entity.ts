import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelStage, ModelStageChangeKind, ModelTask, Role } from '../enums';
import { User } from '../user/user.entity';
import { ModelVersion } from './model-version.entity';
import { ModelStageChangeRepository } from './model-stage-change.repository';

/**
 * One stage change of a model version (the registry's history, shown in its lineage). Written in the
 * same transaction as the change and its audit event; never updated.
 */
@Entity({ repository: () => ModelStageChangeRepository })
@Index({ properties: ['modelVersion', 'createdAt'] })
export class ModelStageChange extends BaseEntity {
  [EntityRepositoryType]?: ModelStageChangeRepository;

  @ManyToOne(() => ModelVersion, { deleteRule: 'cascade' })
  modelVersion!: ModelVersion;

  @Enum({ items: () => ModelTask })
  task!: ModelTask;

  @Enum({ items: () => ModelStageChangeKind })
  kind!: ModelStageChangeKind;

  @Enum({ items: () => ModelStage })
  fromStage!: ModelStage;

  @Enum({ items: () => ModelStage })
  toStage!: ModelStage;

  /** Canary share after the change (0 outside CANARY). */
  @Property({ type: 'double precision' })
  trafficShare!: number;

  /** Who made the change; null for the repository sync at start-up. */
  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  actor?: User | null;

  @Enum({ items: () => Role, nullable: true })
  actorRole?: Role | null;

  @Property({ type: 'text', nullable: true })
  requestId?: string | null;
}

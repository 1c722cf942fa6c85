import { Entity, Enum, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelTask, TrainingRunStatus } from '../enums';
import { User } from '../user/user.entity';

/** One training (or retraining) run with its parameters, data lineage and gate verdict. */
@Entity()
export class TrainingRun extends BaseEntity {
  @Enum({ items: () => ModelTask })
  task!: ModelTask;

  @Enum({ items: () => TrainingRunStatus })
  status: TrainingRunStatus = TrainingRunStatus.QUEUED;

  @Property({ type: 'jsonb' })
  parameters: Record<string, unknown> = {};

  @Property({ type: 'text', nullable: true })
  codeVersion?: string | null;

  @Property({ type: 'string', columnType: 'char(64)', nullable: true })
  manifestSha256?: string | null;

  @Property({ type: 'jsonb', nullable: true })
  datasetCounts?: Record<string, unknown> | null;

  @Property({ type: 'jsonb', nullable: true })
  metrics?: Record<string, unknown> | null;

  @Property({ type: 'jsonb', nullable: true })
  gateVerdict?: Record<string, unknown> | null;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  error?: string | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User | null;
}

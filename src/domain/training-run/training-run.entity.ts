import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelTask, TrainingRunStatus } from '../enums';
import { User } from '../user/user.entity';
import { TrainingRunRepository } from './training-run.repository';

/** One training (or retraining) run with its parameters, data lineage and gate verdict. */
@Entity({ repository: () => TrainingRunRepository })
@Index({ properties: ['task', 'createdAt'] })
export class TrainingRun extends BaseEntity {
  [EntityRepositoryType]?: TrainingRunRepository;

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

  /** What started it: MANUAL (an admin), AUTO (enough new corrections) or CLI (`npm run train`). */
  @Property({ type: 'text', default: 'CLI' })
  trigger: string = 'CLI';

  /** Where the trainer ran: local or ray. */
  @Property({ type: 'text', nullable: true })
  runner?: string | null;

  /** Version label the candidate gets (models/<task>/<candidateVersion>/). */
  @Property({ type: 'text', nullable: true })
  candidateVersion?: string | null;

  /** Step reached: ASSEMBLING, TRAINING, EVALUATING, REGISTERING (resume point after a crash). */
  @Property({ type: 'text', nullable: true })
  phase?: string | null;

  /** Last sign of life of the worker running it (every few seconds while RUNNING). */
  @Property({ type: 'timestamptz', nullable: true })
  heartbeatAt?: Date | null;

  /** Corrections included in the dataset. */
  @Property({ type: 'integer', default: 0 })
  correctionsUsed: number = 0;
}

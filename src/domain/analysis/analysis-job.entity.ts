import { Entity, EntityRepositoryType, Enum, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { AnalysisJobStatus } from '../enums';
import { User } from '../user/user.entity';
import { AnalysisJobRepository } from './analysis-job.repository';

/** A batch of studies submitted for analysis; each study runs as a durable queue job. */
@Entity({ repository: () => AnalysisJobRepository })
export class AnalysisJob extends BaseEntity {
  [EntityRepositoryType]?: AnalysisJobRepository;

  @Enum({ items: () => AnalysisJobStatus })
  status: AnalysisJobStatus = AnalysisJobStatus.QUEUED;

  @Property({ type: 'jsonb' })
  studyIds: string[] = [];

  @Property({ type: 'integer' })
  total!: number;

  @Property({ type: 'integer', default: 0 })
  completed: number = 0;

  @Property({ type: 'integer', default: 0 })
  failed: number = 0;

  /** Per-study results (study id → prediction id): a study is counted once, whatever retries happen. */
  @Property({ type: 'jsonb', default: '{}' })
  results: Record<string, string> = {};

  /** Per-study failure codes (study id → error code). */
  @Property({ type: 'jsonb' })
  failures: Record<string, string> = {};

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User | null;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt?: Date | null;
}

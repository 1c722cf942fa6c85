import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { StudyStatus } from '../enums';
import { Prediction } from '../prediction/prediction.entity';
import { Study } from '../study/study.entity';
import { User } from '../user/user.entity';
import { StudyReadRepository } from './study-read.repository';

/** One finding of a radiologist's read: present or absent, as the radiologist states it. */
export interface ReadFindingRecord {
  label: string;
  present: boolean;
}

/**
 * A radiologist's signed read of a study: per finding present or absent, the conclusion, and the AI
 * prediction it was read beside. Version 1 is the final read; each amendment is a new row with the
 * next version (the latest is the one in force; earlier ones stay as history).
 */
@Entity({ repository: () => StudyReadRepository })
@Unique({ properties: ['study', 'version'] })
export class StudyRead extends BaseEntity {
  [EntityRepositoryType]?: StudyReadRepository;

  @ManyToOne(() => Study, { deleteRule: 'cascade' })
  @Index()
  study!: Study;

  /** The served AI prediction shown beside the read, when there was one. */
  @ManyToOne(() => Prediction, { nullable: true, deleteRule: 'set null' })
  prediction?: Prediction | null;

  /** 1 for the final read, 2... for amendments. */
  @Property({ type: 'integer' })
  version!: number;

  /** FINAL or AMENDED: the study status this read put in force. */
  @Enum({ items: () => StudyStatus })
  status!: StudyStatus;

  /** Every finding of the task, present or absent. */
  @Property({ type: 'jsonb' })
  findings: ReadFindingRecord[] = [];

  /** The task class the read amounts to (the first present finding, or the task's negative class). */
  @Property({ type: 'text' })
  label!: string;

  @Property({ type: 'text', nullable: true })
  conclusion?: string | null;

  /** Why the previous version was amended (amendments only). */
  @Property({ type: 'text', nullable: true })
  amendmentReason?: string | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  radiologist?: User | null;
}

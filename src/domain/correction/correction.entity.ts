import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelTask } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { Prediction } from '../prediction/prediction.entity';
import { User } from '../user/user.entity';
import { CorrectionRepository } from './correction.repository';

/**
 * A radiologist's correction of a prediction: the label a human read. The latest correction of a
 * prediction is the one that counts (quality figures, retraining area); earlier ones stay as history.
 */
@Entity({ repository: () => CorrectionRepository })
@Index({ properties: ['task', 'createdAt'] })
export class Correction extends BaseEntity {
  [EntityRepositoryType]?: CorrectionRepository;

  @ManyToOne(() => Prediction, { deleteRule: 'cascade' })
  @Index()
  prediction!: Prediction;

  /** Reading task of the corrected prediction. */
  @Enum({ items: () => ModelTask })
  task!: ModelTask;

  /** The true label according to the radiologist (one of the task's classes). */
  @Property({ type: 'text' })
  label!: string;

  /** The model's label at the time of the correction (null when the input gate refused the study). */
  @Property({ type: 'text', nullable: true })
  predictedLabel?: string | null;

  /** Whether the model flagged any finding (a class above its recall threshold) on this study. */
  @Property({ type: 'boolean', default: false })
  predictedPositive: boolean = false;

  /** Model version that made the corrected prediction. */
  @ManyToOne(() => ModelVersion, { nullable: true, deleteRule: 'set null' })
  modelVersion?: ModelVersion | null;

  @Property({ type: 'text', nullable: true })
  comment?: string | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User | null;

  /** Object-store keys of the de-identified copies in the retraining area (no PHI in them). */
  @Property({ type: 'jsonb', default: '[]' })
  retrainingObjectKeys: string[] = [];

  /** Why no copy was made (an error code such as UNSUPPORTED_IMAGE), or null. */
  @Property({ type: 'text', nullable: true })
  retrainingExcludedReason?: string | null;
}

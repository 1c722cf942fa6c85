import { Entity, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { Prediction } from '../prediction/prediction.entity';
import { User } from '../user/user.entity';

/** A radiologist's correction of a prediction: the label a human read. */
@Entity()
export class Correction extends BaseEntity {
  @ManyToOne(() => Prediction, { deleteRule: 'cascade' })
  prediction!: Prediction;

  @Property({ type: 'text' })
  label!: string;

  @Property({ type: 'text', nullable: true })
  comment?: string | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User | null;

  /** Object-store key of the de-identified copy in the retraining area. */
  @Property({ type: 'text', nullable: true })
  retrainingObjectKey?: string | null;
}

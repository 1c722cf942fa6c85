import { Entity, EntityRepositoryType, Index, ManyToOne, OneToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ModelVersion } from '../model-version/model-version.entity';
import { Prediction } from '../prediction/prediction.entity';
import { DriftSampleRepository } from './drift-sample.repository';

/**
 * The compact, PHI-free record drift windows are built from: one per accepted prediction (the
 * model's embedding and confidence, and statistics of the input it read).
 */
@Entity({ repository: () => DriftSampleRepository })
@Index({ properties: ['modelVersion', 'createdAt'] })
export class DriftSample extends BaseEntity {
  [EntityRepositoryType]?: DriftSampleRepository;

  @OneToOne(() => Prediction, { owner: true, deleteRule: 'cascade', unique: true })
  prediction!: Prediction;

  @ManyToOne(() => ModelVersion, { deleteRule: 'cascade' })
  modelVersion!: ModelVersion;

  /** Penultimate-layer embedding, float32 little-endian. */
  @Property({ type: 'blob' })
  embedding!: Buffer;

  @Property({ type: 'double precision' })
  confidence!: number;

  @Property({ type: 'text' })
  predictedClass!: string;

  /** Display-intensity histogram of the model input (proportions). */
  @Property({ type: 'jsonb' })
  intensityHistogram: number[] = [];

  @Property({ type: 'integer' })
  width!: number;

  @Property({ type: 'integer' })
  height!: number;

  @Property({ type: 'integer' })
  bitsStored!: number;

  @Property({ type: 'text' })
  format!: string;
}

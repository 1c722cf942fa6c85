import { Entity, EntityRepositoryType, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import type { DriftWindowKind } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { DriftCheckRepository } from './drift-check.repository';

/** One signal's result in a drift check (see `monitoring/drift-detection/drift-detector.ts`). */
export interface DriftCheckSignal {
  signal: string;
  statistic: string;
  value: number;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
}

/** One comparison of a production window with a model version's reference profile: the drift time series. */
@Entity({ repository: () => DriftCheckRepository })
@Index({ properties: ['modelVersion', 'windowKind', 'windowEnd'] })
@Index({ properties: ['createdAt', 'id'] })
export class DriftCheck extends BaseEntity {
  [EntityRepositoryType]?: DriftCheckRepository;

  @ManyToOne(() => ModelVersion, { deleteRule: 'cascade' })
  modelVersion!: ModelVersion;

  /** COUNT (every N accepted predictions) or TIME (every period). */
  @Property({ type: 'text' })
  windowKind!: DriftWindowKind;

  @Property({ type: 'timestamptz' })
  windowStart!: Date;

  @Property({ type: 'timestamptz' })
  windowEnd!: Date;

  @Property({ type: 'integer' })
  windowSize!: number;

  @Property({ type: 'jsonb' })
  signals: DriftCheckSignal[] = [];

  @Property({ type: 'boolean' })
  drifted!: boolean;
}

import { Entity, EntityRepositoryType, Enum, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { DriftAlertStatus, DriftWindowKind } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { DriftAlertRepository } from './drift-alert.repository';

/** A detected shift between a production window and a model version's reference profile. */
@Entity({ repository: () => DriftAlertRepository })
export class DriftAlert extends BaseEntity {
  [EntityRepositoryType]?: DriftAlertRepository;

  @ManyToOne(() => ModelVersion, { nullable: true, deleteRule: 'set null' })
  modelVersion?: ModelVersion | null;

  @Property({ type: 'text' })
  signal!: string;

  @Property({ type: 'text' })
  statistic!: string;

  @Property({ type: 'double precision' })
  value!: number;

  @Property({ type: 'double precision', nullable: true })
  pValue?: number | null;

  @Property({ type: 'double precision' })
  threshold!: number;

  @Property({ type: 'timestamptz' })
  windowStart!: Date;

  @Property({ type: 'timestamptz' })
  windowEnd!: Date;

  @Property({ type: 'integer' })
  windowSize!: number;

  /** COUNT or TIME: how the window was cut. */
  @Property({ type: 'text', default: 'COUNT' })
  windowKind: DriftWindowKind = DriftWindowKind.COUNT;

  @Enum({ items: () => DriftAlertStatus })
  status: DriftAlertStatus = DriftAlertStatus.OPEN;
}

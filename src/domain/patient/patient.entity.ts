import { Entity, EntityRepositoryType, Enum, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { Sex } from '../enums';
import { PatientRepository } from './patient.repository';

/** A patient as registered by the hospital. Every column here is PHI. */
@Entity({ repository: () => PatientRepository })
export class Patient extends BaseEntity {
  [EntityRepositoryType]?: PatientRepository;

  @Property({ type: 'text' })
  @Unique()
  mrn!: string;

  @Property({ type: 'text' })
  givenName!: string;

  @Property({ type: 'text' })
  familyName!: string;

  @Property({ type: 'date', nullable: true })
  birthDate?: string | null;

  @Enum({ items: () => Sex })
  sex: Sex = Sex.UNKNOWN;

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { BodyPart, StudyPriority, StudyStatus } from '../enums';
import { Patient } from '../patient/patient.entity';
import { DEFAULT_SITE_ID, Site } from '../site/site.entity';
import { User } from '../user/user.entity';
import { StudyRepository } from './study.repository';

/** One imaging examination of one patient (a chest film, a two-view wrist series). */
@Entity({ repository: () => StudyRepository })
@Index({ properties: ['createdAt', 'id'] })
export class Study extends BaseEntity {
  [EntityRepositoryType]?: StudyRepository;

  @ManyToOne(() => Patient, { deleteRule: 'restrict' })
  @Index()
  patient!: Patient;

  /** The site (hospital or department) it belongs to; the default site unless registered at another. */
  @ManyToOne(() => Site, { deleteRule: 'restrict', defaultRaw: `'${DEFAULT_SITE_ID}'` })
  @Index()
  site!: Site;

  @Enum({ items: () => BodyPart })
  bodyPart!: BodyPart;

  @Enum({ items: () => StudyPriority })
  priority: StudyPriority = StudyPriority.ROUTINE;

  @Enum({ items: () => StudyStatus })
  @Index()
  status: StudyStatus = StudyStatus.REGISTERED;

  @Property({ type: 'text' })
  @Unique()
  accessionNumber!: string;

  @Property({ type: 'text', nullable: true })
  studyInstanceUid?: string | null;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

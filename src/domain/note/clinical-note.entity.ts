import { Entity, EntityRepositoryType, Enum, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { NoteAudience, NoteSource, NoteStatus } from '../enums';
import { Prediction } from '../prediction/prediction.entity';
import { User } from '../user/user.entity';
import { ClinicalNoteRepository } from './clinical-note.repository';

/** A drafted note about a prediction; released only after a radiologist approves it. */
@Entity({ repository: () => ClinicalNoteRepository })
export class ClinicalNote extends BaseEntity {
  [EntityRepositoryType]?: ClinicalNoteRepository;

  @ManyToOne(() => Prediction, { deleteRule: 'cascade' })
  prediction!: Prediction;

  @Enum({ items: () => NoteAudience })
  audience!: NoteAudience;

  @Property({ type: 'text', default: 'en' })
  language: string = 'en';

  @Property({ type: 'text' })
  body!: string;

  @Enum({ items: () => NoteStatus })
  status: NoteStatus = NoteStatus.DRAFT;

  @Property({ type: 'text' })
  backend!: string;

  @Property({ type: 'jsonb' })
  safetyChecks: Record<string, unknown> = {};

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  approvedBy?: User | null;

  @Property({ type: 'timestamptz', nullable: true })
  approvedAt?: Date | null;

  /** What the draft was written from: the AI findings or the radiologist's read. */
  @Enum({ items: () => NoteSource, default: NoteSource.AI })
  source: NoteSource = NoteSource.AI;

  /** Labels of the conditions the note was drafted as present (what a later read is compared with). */
  @Property({ type: 'jsonb', default: '[]' })
  statedFindings: string[] = [];

  @Property({ type: 'timestamptz', nullable: true })
  invalidatedAt?: Date | null;

  /** Why the note was invalidated, in plain words (no PHI). */
  @Property({ type: 'text', nullable: true })
  invalidationReason?: string | null;
}

import { Entity, EntityRepositoryType, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ImageFormat, ImageView } from '../enums';
import { Study } from '../study/study.entity';
import { User } from '../user/user.entity';
import { ImageRepository } from './image.repository';

/** Technical facts of a decoded image, kept with the record (no PHI: identifiers are not stored here). */
export interface ImageMetadata {
  width: number;
  height: number;
  bitsStored: number;
  photometric: string;
  transferSyntaxUid?: string | null;
  /** Selected DICOM attributes (modality, body part, view position, UIDs, rescale, window). */
  dicom?: Record<string, string | number | null> | null;
}

/** A DICOM header that disagreed with its study, accepted on purpose (who, why, which checks). */
export interface IntakeOverride {
  checks: string[];
  reason: string;
  userId: string;
  at: string;
}

/** One radiograph attached to a study with its view. The pixels live in the object store. */
@Entity({ repository: () => ImageRepository })
@Index({ properties: ['study', 'createdAt'] })
export class Image extends BaseEntity {
  [EntityRepositoryType]?: ImageRepository;

  @ManyToOne(() => Study, { deleteRule: 'cascade' })
  study!: Study;

  @Enum({ items: () => ImageView })
  view!: ImageView;

  @Enum({ items: () => ImageFormat })
  format!: ImageFormat;

  @Property({ type: 'integer' })
  width!: number;

  @Property({ type: 'integer' })
  height!: number;

  @Property({ type: 'smallint' })
  bitsStored!: number;

  @Property({ type: 'text' })
  photometric!: string;

  @Property({ type: 'text', nullable: true })
  transferSyntaxUid?: string | null;

  @Property({ type: 'string', columnType: 'char(64)' })
  @Index()
  sha256!: string;

  @Property({ type: 'text' })
  objectKey!: string;

  @Property({ type: 'integer' })
  sizeBytes!: number;

  @Property({ type: 'jsonb', nullable: true })
  dicomAttributes?: Record<string, string | number | null> | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  uploadedBy?: User | null;

  /**
   * The upload this image came from (an attach, or DICOMweb ingestion's own upload; null on images older
   * than the column). Unique: an upload attaches once, and of two attaches of one upload at the same
   * moment the database keeps one.
   */
  @Property({ type: 'uuid', nullable: true, unique: true })
  uploadId?: string | null;

  /** Set when the file's DICOM header disagreed with the study and the uploader accepted it explicitly. */
  @Property({ type: 'jsonb', nullable: true })
  intakeOverride?: IntakeOverride | null;
}

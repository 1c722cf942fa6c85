import { Entity, EntityRepositoryType, Enum, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { ImageFormat } from '../enums';
import { User } from '../user/user.entity';
import type { ImageMetadata } from '../image/image.entity';
import { UploadRepository } from './upload.repository';

/**
 * A decoded, validated file held in the object store and waiting to be attached to a study.
 * Created by the HTTP upload endpoint; consumed (once) by `attachImage`.
 */
@Entity({ repository: () => UploadRepository })
export class Upload extends BaseEntity {
  [EntityRepositoryType]?: UploadRepository;

  @Property({ type: 'string', columnType: 'char(64)' })
  sha256!: string;

  @Property({ type: 'text' })
  objectKey!: string;

  @Enum({ items: () => ImageFormat })
  format!: ImageFormat;

  @Property({ type: 'integer' })
  sizeBytes!: number;

  @Property({ type: 'jsonb' })
  metadata!: ImageMetadata;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  uploadedBy?: User | null;

  @Property({ type: 'timestamptz', nullable: true })
  attachedAt?: Date | null;
}

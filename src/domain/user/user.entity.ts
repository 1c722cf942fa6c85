import { Entity, EntityRepositoryType, Enum, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../base.entity';
import { Role } from '../enums';
import { UserRepository } from './user.repository';

/** A clinician, technician, administrator or integration client that holds tokens. */
@Entity({ tableName: 'app_user', repository: () => UserRepository })
export class User extends BaseEntity {
  [EntityRepositoryType]?: UserRepository;

  @Property({ type: 'text' })
  @Unique()
  email!: string;

  @Property({ type: 'text' })
  displayName!: string;

  @Enum({ items: () => Role })
  role!: Role;

  @Property({ type: 'boolean', default: true })
  active: boolean = true;
}

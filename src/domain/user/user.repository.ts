import { EntityRepository } from '@mikro-orm/postgresql';
import { Role } from '../enums';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { User } from './user.entity';

/** Reads of users. */
export class UserRepository extends EntityRepository<User> {
  /** The user with this e-mail address (compared in lower case), or null. */
  findByEmail(email: string): Promise<User | null> {
    return this.findOne({ email: email.toLowerCase() });
  }

  /** How many active admins there are. */
  countActiveAdmins(): Promise<number> {
    return this.count({ role: Role.ADMIN, active: true });
  }

  /** A page of users newest first. */
  findPage(page: PageArgs, pageMax: number): Promise<Page<User>> {
    return paginate(this.em, this.entityName, {}, page, pageMax);
  }

  /** What authorisation needs of a user (id, role, active), or null. */
  findStatus(id: string): Promise<Pick<User, 'id' | 'role' | 'active'> | null> {
    return this.findOne({ id }, { fields: ['id', 'role', 'active'] });
  }
}

import { ROLE_PERMISSIONS } from '../auth/policy';
import type { User } from '../domain/user/user.entity';
import { UserType } from './user.types';

export const toUser = (u: User): UserType =>
  Object.assign(new UserType(), {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    active: u.active,
    permissions: [...ROLE_PERMISSIONS[u.role]],
    createdAt: u.createdAt,
  });

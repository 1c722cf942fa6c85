import { Role } from '../domain/enums';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { Permission, roleHas } from './policy';

/** The authenticated caller of one request or one WebSocket connection. */
export interface Principal {
  userId: string;
  role: Role;
  /** Token id (`jti`), used as the rate-limit key. */
  tokenId: string;
}

/** Throws UNAUTHENTICATED when there is no principal, FORBIDDEN when its role lacks the permission. */
export function assertPermission(principal: Principal | null, permission: Permission): Principal {
  if (!principal) throw new UnauthenticatedError('Authentication required: send a bearer token');
  if (!roleHas(principal.role, permission)) {
    throw new ForbiddenError('Your role may not do this', { role: principal.role, permission });
  }
  return principal;
}

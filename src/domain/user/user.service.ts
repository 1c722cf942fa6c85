import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission, roleHas } from '../../auth/policy';
import { assertPermission, Principal } from '../../auth/principal';
import { TokenService } from '../../auth/token.service';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../errors';
import { AuditAction, Role } from '../enums';
import { flushUnique } from '../shared/flush-unique';
import { isUuid } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { EventPublisher } from '../shared/event-publisher';
import type { RequestContext } from '../shared/request-context';
import { Topic } from '../shared/events';
import { User } from './user.entity';

/** A user's role and status as last read, reused by {@link UserService.authenticate} until `until`. */
interface CachedUser {
  role: Role;
  until: number;
}

/** What authentication reads of a user. */
type UserStatus = Pick<User, 'id' | 'role' | 'active'>;

/** Bound on cached principals: past it the cache starts over (a user costs one lookup again). */
const MAX_CACHED_USERS = 10_000;

/** Users, their tokens, and authentication of incoming requests. */
export class UserService {
  private readonly cache = new Map<string, CachedUser>();
  /** Reads of a user's role and status in flight: concurrent authentications of one user share one. */
  private readonly reading = new Map<string, Promise<UserStatus | null>>();
  /** Reads in flight when their user was evicted: their answer is used once, never cached. */
  private readonly staleReads = new WeakSet<Promise<UserStatus | null>>();
  private readonly changeListeners = new Set<(userId: string) => void>();

  /**
   * @param principalCacheMs - how long an active user's role, once read, serves later requests (0: never
   *   cached). Deactivation evicts it here at once and, through `events` (USER_CHANGED), in every process.
   */
  constructor(
    private readonly rootEm: EntityManager,
    private readonly tokens: TokenService,
    private readonly pageMax: number,
    private readonly principalCacheMs = 0,
    private readonly events: EventPublisher = { publish: () => undefined },
  ) {}

  /**
   * Forgets what is cached about a user and tells the listeners (open WebSockets re-check their user):
   * called when this process deactivates a user and on USER_CHANGED from any process.
   */
  evict(userId: string): void {
    this.cache.delete(userId);
    const inFlight = this.reading.get(userId);
    if (inFlight) this.staleReads.add(inFlight);
    this.reading.delete(userId);
    for (const listener of this.changeListeners) {
      try {
        listener(userId);
      } catch {
        // A listener's failure must not stop the others (nor the deactivation that called it).
      }
    }
  }

  /** Calls `listener` with the id of each user {@link evict}ed; returns the function that stops it. */
  onUserChanged(listener: (userId: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * {@link authenticate} without waiting, when everything it needs is in memory: a token verified
   * before and not expired, of a user whose active role is cached. Null otherwise (then call
   * authenticate, which also says why a token is refused).
   */
  authenticateCached(token: string): Principal | null {
    const claimed = this.tokens.remembered(token);
    if (!claimed) return null;
    const cached = this.cache.get(claimed.userId);
    if (!cached || cached.until <= Date.now()) return null;
    return { userId: claimed.userId, role: cached.role, tokenId: claimed.tokenId };
  }

  /**
   * Turns a bearer token into a principal: signature, issuer and expiry are checked by the token
   * service; the user must still exist and be active, and its current role (not the token's) applies.
   */
  async authenticate(token: string): Promise<Principal> {
    const claimed = await this.tokens.verify(token);
    const now = Date.now();
    const cached = this.cache.get(claimed.userId);
    if (cached && cached.until > now)
      return { userId: claimed.userId, role: cached.role, tokenId: claimed.tokenId };
    const read = this.readUser(claimed.userId);
    const user = await read;
    if (!user || !user.active) {
      this.cache.delete(claimed.userId);
      throw new UnauthenticatedError('User is unknown or inactive', { reason: 'INACTIVE' });
    }
    // A read that started before the user was evicted may predate the change: answer it, cache it not.
    if (this.principalCacheMs > 0 && !this.staleReads.has(read)) {
      if (this.cache.size >= MAX_CACHED_USERS) this.cache.clear();
      this.cache.set(user.id, { role: user.role, until: now + this.principalCacheMs });
    }
    return { userId: user.id, role: user.role, tokenId: claimed.tokenId };
  }

  /**
   * The user's role and status, read once for every authentication waiting on it (regression: each
   * caller that found the principal stale read it again, up to 23,000 app_user reads in one
   * subscription benchmark run).
   */
  private readUser(userId: string): Promise<UserStatus | null> {
    const inFlight = this.reading.get(userId);
    if (inFlight) return inFlight;
    const read = this.rootEm
      .fork()
      .getRepository(User)
      .findStatus(userId)
      .finally(() => {
        if (this.reading.get(userId) === read) this.reading.delete(userId);
      });
    this.reading.set(userId, read);
    return read;
  }

  /** Creates a user (admins only). */
  async create(
    ctx: RequestContext,
    input: { email: string; displayName: string; role: Role },
  ): Promise<User> {
    assertPermission(ctx.principal, Permission.MANAGE_USERS);
    const user = ctx.em.create(User, {
      email: input.email.toLowerCase(),
      displayName: input.displayName,
      role: input.role,
      active: true,
    } as User);
    ctx.audit.write(ctx.em, { action: AuditAction.CREATE, entityType: 'User', entityId: user.id });
    await flushUnique(ctx.em, 'A user with this e-mail already exists', 'email');
    return user;
  }

  /** Deactivates a user; its tokens stop working at once. */
  async deactivate(ctx: RequestContext, id: string): Promise<User> {
    assertPermission(ctx.principal, Permission.MANAGE_USERS);
    const user = await this.find(ctx.em, id);
    user.active = false;
    ctx.audit.write(ctx.em, { action: AuditAction.UPDATE, entityType: 'User', entityId: id });
    await ctx.em.flush();
    this.evict(user.id);
    this.events.publish(Topic.USER_CHANGED, { userId: user.id });
    return user;
  }

  /**
   * Mints a token for an active user (admins only), never for a user whose role reads patient data:
   * a token is the user, so an admin holding a radiologist's token would read what admins may not
   * (regression: an ADMIN minted a 30-day RADIOLOGIST token). Those users get theirs from whoever
   * runs the install (`npm run token:mint`, which needs the signing secret and the database).
   * There is no break-glass path through the API on purpose: see README "Security model".
   */
  async issueToken(
    ctx: RequestContext,
    userId: string,
    ttlSeconds?: number | null,
  ): Promise<{ token: string; expiresAt: Date; user: User }> {
    assertPermission(ctx.principal, Permission.MANAGE_USERS);
    const user = await this.find(ctx.em, userId);
    if (roleHas(user.role, Permission.READ_PATIENT_DATA))
      throw new ForbiddenError('Tokens of users who read patient data are not minted through the API', {
        reason: 'CLINICAL_USER',
        role: user.role,
      });
    if (!user.active) throw new ConflictError('User is inactive', { userId });
    const minted = await this.tokens.mint(user.id, user.role, ttlSeconds ?? undefined);
    ctx.audit.write(ctx.em, { action: AuditAction.LOGIN, entityType: 'User', entityId: user.id });
    await ctx.em.flush();
    return { ...minted, user };
  }

  /** The caller's own user record. */
  async me(ctx: RequestContext): Promise<User> {
    if (!ctx.principal) throw new UnauthenticatedError('Authentication required');
    return this.find(ctx.em, ctx.principal.userId);
  }

  /** Lists users (admins only). */
  async list(ctx: RequestContext, page: PageArgs): Promise<Page<User>> {
    assertPermission(ctx.principal, Permission.MANAGE_USERS);
    return ctx.em.getRepository(User).findPage(page, this.pageMax);
  }

  /**
   * Bootstrap: creates the admin user if missing and mints a token for it. Used by the
   * `token:mint` script and the embedded first start; never reachable through the API.
   */
  async bootstrapAdmin(
    email: string,
    role: Role = Role.ADMIN,
    ttlSeconds?: number,
  ): Promise<{ token: string; user: User; created: boolean }> {
    const em = this.rootEm.fork();
    let user = await em.getRepository(User).findByEmail(email);
    const created = !user;
    if (!user) {
      try {
        user = em.create(User, {
          email: email.toLowerCase(),
          displayName: email,
          role,
          active: true,
        } as User);
        await em.flush();
      } catch (error) {
        // Another process created it at the same moment: use theirs.
        if (!(error instanceof UniqueConstraintViolationException)) throw error;
        user = await this.rootEm.fork().getRepository(User).findOneOrFail({ email: email.toLowerCase() });
      }
    }
    const { token } = await this.tokens.mint(user.id, user.role, ttlSeconds);
    return { token, user, created };
  }

  /** True when at least one active admin exists. */
  async hasAdmin(): Promise<boolean> {
    return (await this.rootEm.fork().getRepository(User).countActiveAdmins()) > 0;
  }

  private async find(em: EntityManager, id: string): Promise<User> {
    const user = isUuid(id) ? await em.getRepository(User).findOne({ id }) : null;
    if (!user) throw NotFoundError.of('User', id);
    return user;
  }
}

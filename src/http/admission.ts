import { DocumentNode, Kind, OperationDefinitionNode } from 'graphql';
import type { Principal } from '../auth/principal';
import { TooManySubscriptionsError, UnauthenticatedError, ValidationError } from '../errors';
import { rootFieldCount } from '../schema/limits';
import { unstorableInput } from '../schema/storable-input';
import type { RateLimiter } from './rate-limiter';

/** What admission needs from the rest of the app. */
export interface AdmissionDeps {
  /** Verifies a token and reads its user (active, current role). */
  authenticate(token: string): Promise<Principal>;
  /** The same answer without waiting when it is known in memory; null sends the caller to authenticate. */
  authenticateCached?(token: string): Principal | null;
  rateLimiter: RateLimiter;
  /** Live subscriptions one socket may hold. */
  subscriptionsPerSocket: number;
  /** Live subscriptions one user may hold across sockets (this process). */
  subscriptionsPerUser: number;
  /** When an authenticated token expires (ms since the epoch); null when unknown. */
  tokenExpiresAt?(token: string): number | null;
  /** Calls the listener with the id of each user that changed (deactivated); returns the unsubscriber. */
  onUserChanged?(listener: (userId: string) => void): () => void;
}

/**
 * A bounded name for an operation: its top-level fields, which the schema limits, rather than the
 * client-chosen operation name, which could be anything.
 */
export function operationLabel(operation: OperationDefinitionNode): string {
  const fields = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') fields.add(selection.name.value);
    } else fields.add('fragment');
  }
  if (fields.size === 0) return '__typename';
  if (fields.size > 4) return 'multiple';
  return [...fields].sort().join(',');
}

/**
 * What the audit trail records as an operation: its type and top-level fields (`query patients`,
 * `mutation createPatient`), derived by the server. The client's operationName is never stored: it
 * could be a megabyte long, or name something the operation does not do.
 */
function auditLabel(operation: OperationDefinitionNode): string {
  return `${operation.operation} ${operationLabel(operation)}`;
}

/**
 * The one door every request and operation passes, whichever transport brings it (HTTP, graphql-ws):
 * the token is authenticated (and the user re-read, so a deactivated user is refused before the next
 * operation runs, not after), the token's rate budget is charged by cost, text PostgreSQL cannot
 * store is refused, the operation gets its server-made audit label, and subscriptions are counted
 * per socket and per user.
 */
export class Admission {
  private readonly subscriptionsByUser = new Map<string, number>();

  constructor(private readonly deps: AdmissionDeps) {}

  /**
   * The principal of a bearer token: from memory when its signature and its user's status are
   * known, else verified and read. Throws UNAUTHENTICATED (`reason` MISSING, INVALID, EXPIRED, INACTIVE).
   */
  async authenticate(token: string | null | undefined): Promise<Principal> {
    if (!token)
      throw new UnauthenticatedError('Authentication required: send Authorization: Bearer <token>', {
        reason: 'MISSING',
      });
    return this.deps.authenticateCached?.(token) ?? (await this.deps.authenticate(token));
  }

  /** When an authenticated token expires (ms since the epoch), or null when unknown. */
  expiresAt(token: string): number | null {
    return this.deps.tokenExpiresAt?.(token) ?? null;
  }

  /**
   * Calls `listener` with the id of each user that changed in any process (deactivation), at once for
   * a change made in this one: a WebSocket re-checks its user then instead of before every event.
   */
  onUserChanged(listener: (userId: string) => void): () => void {
    return this.deps.onUserChanged?.(listener) ?? (() => undefined);
  }

  /** Charges `cost` units of the principal's rate budget: RATE_LIMITED once it is spent. */
  charge(principal: Principal, cost = 1): void {
    this.deps.rateLimiter.hit(principal.tokenId, cost);
  }

  /**
   * Admits one parsed, validated GraphQL operation just before it runs: charges its cost (one per
   * root field, aliases included) beyond the `prepaid` units its request already paid, refuses text
   * the database cannot store (BAD_USER_INPUT), and returns its audit label.
   */
  admitOperation(
    principal: Principal | null,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: unknown,
    prepaid = 0,
  ): string {
    if (principal) {
      const cost = rootFieldCount(operation, document);
      if (cost > prepaid) this.charge(principal, cost - prepaid);
    }
    const where = unstorableInput(document, variables);
    if (where)
      throw new ValidationError('Text may not contain the NUL character (U+0000), which cannot be stored', {
        where,
      });
    return auditLabel(operation);
  }

  /**
   * Takes one subscription slot of a user, whose socket already holds `heldBySocket`; returns the
   * function that gives it back (idempotent). TOO_MANY_SUBSCRIPTIONS beyond either limit.
   */
  holdSubscription(principal: Principal, heldBySocket: number): () => void {
    const { subscriptionsPerSocket, subscriptionsPerUser } = this.deps;
    if (heldBySocket >= subscriptionsPerSocket)
      throw new TooManySubscriptionsError('This connection holds as many subscriptions as allowed', {
        scope: 'SOCKET',
        limit: subscriptionsPerSocket,
      });
    const user = principal.userId;
    const held = this.subscriptionsByUser.get(user) ?? 0;
    if (held >= subscriptionsPerUser)
      throw new TooManySubscriptionsError('This user holds as many subscriptions as allowed', {
        scope: 'USER',
        limit: subscriptionsPerUser,
      });
    this.subscriptionsByUser.set(user, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.subscriptionsByUser.get(user) ?? 1) - 1;
      if (left > 0) this.subscriptionsByUser.set(user, left);
      else this.subscriptionsByUser.delete(user);
    };
  }
}

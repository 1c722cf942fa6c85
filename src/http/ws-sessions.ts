import { CloseCode } from 'graphql-ws';
import type { Principal } from '../auth/principal';
import { loggableError, UnauthenticatedError } from '../errors';
import type { Logger } from '../logging/logger';
import type { Admission } from './admission';
import type { FanOutConnection } from './subscription-fan-out';

/** Longest delay a Node timer takes; a later expiry re-arms the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What {@link WsSessions} needs. */
export interface WsSessionsDeps {
  admission: Admission;
  /** How often every open socket's user is re-checked, as a backstop for a missed change (ms). */
  recheckMs: number;
  logger: Logger;
}

/** One authenticated socket. */
interface Session {
  token: string;
  userId: string;
  role: Principal['role'];
  connection: FanOutConnection;
  timer: NodeJS.Timeout | null;
}

/**
 * Authentication per WebSocket connection, not per message: the token is checked when the socket
 * opens (and before each operation the client sends, by the admission); events flow without a check
 * each. The socket is closed with 4403 when its token expires (a timer), when its user changes
 * (deactivation, in this process at once and in the others on USER_CHANGED: deliveries to the user's
 * sockets are held from that moment until the user is re-read, then sent or dropped with the socket),
 * and when a periodic re-check (every `recheckMs`, a backstop for a missed notification) finds the
 * user inactive or with another role.
 */
export class WsSessions {
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly stopWatching: () => void;

  constructor(private readonly deps: WsSessionsDeps) {
    this.stopWatching = deps.admission.onUserChanged((userId) => this.userChanged(userId));
    this.sweepTimer = setInterval(() => void this.sweep(), deps.recheckMs);
    this.sweepTimer.unref();
  }

  /** Tracks an authenticated socket; returns the function to call when it closes. */
  open(token: string, principal: Principal, connection: FanOutConnection): () => void {
    const session: Session = {
      token,
      userId: principal.userId,
      role: principal.role,
      connection,
      timer: null,
    };
    let set = this.byUser.get(session.userId);
    if (!set) this.byUser.set(session.userId, (set = new Set()));
    set.add(session);
    this.armExpiry(session);
    return () => this.end(session);
  }

  /** Open sockets now. */
  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  /** Stops the timers and the user watch (the sockets are closed by the transport). */
  close(): void {
    clearInterval(this.sweepTimer);
    this.stopWatching();
    for (const set of this.byUser.values()) for (const session of set) this.clearTimer(session);
    this.byUser.clear();
  }

  private armExpiry(session: Session): void {
    const expiresAt = this.deps.admission.expiresAt(session.token);
    if (expiresAt === null) return;
    const delay = Math.max(0, expiresAt - Date.now());
    session.timer = setTimeout(
      () => {
        session.timer = null;
        if (Date.now() >= expiresAt) this.revoke(session, 'token expired');
        else this.armExpiry(session);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    session.timer.unref();
  }

  private clearTimer(session: Session): void {
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
  }

  private end(session: Session): void {
    this.clearTimer(session);
    const set = this.byUser.get(session.userId);
    set?.delete(session);
    if (set && !set.size) this.byUser.delete(session.userId);
  }

  private revoke(session: Session, why: string): void {
    this.deps.logger.info({ userId: session.userId, why }, 'websocket closed: authentication ended');
    this.end(session);
    session.connection.close(CloseCode.Forbidden, 'Forbidden');
  }

  /**
   * The user changed: hold deliveries to its sockets, re-read it, then resume them or close them.
   * Fails closed: a socket whose user cannot be re-read (database down) is closed too.
   */
  private userChanged(userId: string): void {
    for (const session of [...(this.byUser.get(userId) ?? [])]) {
      session.connection.suspend();
      void this.recheck(session, true).finally(() => session.connection.resume());
    }
  }

  /** Re-checks every open socket's user (a principal re-read at most every AUTH_PRINCIPAL_CACHE_MS). */
  private async sweep(): Promise<void> {
    const sessions = [...this.byUser.values()].flatMap((set) => [...set]);
    for (const session of sessions) await this.recheck(session, false);
  }

  private async recheck(session: Session, failClosed: boolean): Promise<void> {
    if (!session.connection.open) return;
    try {
      const principal = await this.deps.admission.authenticate(session.token);
      if (principal.role !== session.role) this.revoke(session, 'role changed');
    } catch (error) {
      if (error instanceof UnauthenticatedError || failClosed) {
        if (!(error instanceof UnauthenticatedError))
          this.deps.logger.warn(
            { err: loggableError(error), userId: session.userId },
            'user could not be re-read after a change; socket closed',
          );
        this.revoke(session, 'user re-check refused');
      } else
        this.deps.logger.warn(
          { err: loggableError(error), userId: session.userId },
          'periodic user re-check failed; kept',
        );
    }
  }
}

import { randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { DEFAULT_AUTH_AUDIENCE } from '../config/app-config';
import { Role } from '../domain/enums';
import { UnauthenticatedError } from '../errors';
import type { Principal } from './principal';

/** Most verified tokens remembered; beyond it the memory is cleared and refilled. */
const MAX_VERIFIED_TOKENS = 10_000;

/** Claims every token must carry; a token without an expiry would otherwise be valid forever. */
const REQUIRED_CLAIMS = ['exp', 'sub', 'jti', 'aud'];

/**
 * Signs and verifies the bearer tokens (HS256 JWT) that every request carries: issuer, audience,
 * expiry, subject and token id are required. A token that verified is remembered (by its exact
 * text) until it expires, so the next request with it skips the signature check, which WebCrypto
 * runs on the libuv thread pool (a thread hop per request). The expiry is still checked on every
 * use. Whether the user is still active is the caller's check (UserService).
 */
export class TokenService {
  private readonly key: Uint8Array;
  private readonly verified = new Map<string, { principal: Principal; exp: number }>();

  /**
   * @param secret - the signing key (see `resolveAuthSecret`)
   * @param audience - the `aud` minted into tokens and required of every token presented
   */
  constructor(
    secret: string,
    private readonly issuer: string,
    private readonly defaultTtlSeconds: number,
    private readonly audience: string = DEFAULT_AUTH_AUDIENCE,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Mints a token for a user and role. */
  async mint(
    userId: string,
    role: Role,
    ttlSeconds = this.defaultTtlSeconds,
  ): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.key);
    return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
  }

  /**
   * The principal of a token this service verified before and that has not expired yet, without
   * waiting: null when it must go through {@link verify} (unknown, or expired: verify says which).
   */
  remembered(token: string): Principal | null {
    const known = this.verified.get(token);
    // jose's rule: expired once the current second reaches `exp`.
    return known && known.exp > Math.floor(Date.now() / 1000) ? { ...known.principal } : null;
  }

  /**
   * When a token this service verified expires (ms since the epoch), or null when it is not known:
   * a WebSocket is closed then, whatever it is doing.
   */
  expiresAt(token: string): number | null {
    const known = this.verified.get(token);
    return known ? known.exp * 1000 : null;
  }

  /**
   * Verifies signature, issuer, audience, expiry and claims. Throws UNAUTHENTICATED with a reason code
   * in `details.reason` (EXPIRED, INVALID) — never echoes the token.
   */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known) {
      // jose's rule: expired once the current second reaches `exp`.
      if (known.exp > Math.floor(Date.now() / 1000)) return { ...known.principal };
      this.verified.delete(token);
      throw new UnauthenticatedError('Token expired', { reason: 'EXPIRED' });
    }
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: ['HS256'],
        requiredClaims: REQUIRED_CLAIMS,
      });
      const role = payload.role;
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.jti !== 'string' ||
        typeof payload.exp !== 'number' ||
        !Object.values(Role).includes(role as Role)
      ) {
        throw new UnauthenticatedError('Token claims are invalid', { reason: 'INVALID' });
      }
      const principal: Principal = { userId: payload.sub, role: role as Role, tokenId: payload.jti };
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.clear();
      this.verified.set(token, { principal, exp: payload.exp });
      return { ...principal };
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      if (error instanceof joseErrors.JWTExpired) {
        throw new UnauthenticatedError('Token expired', { reason: 'EXPIRED' }, { cause: error });
      }
      throw new UnauthenticatedError('Token is invalid', { reason: 'INVALID' }, { cause: error });
    }
  }
}

/** Extracts the token from an `Authorization: Bearer …` header value. */
export function bearerToken(header: string | string[] | undefined | null): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(value.trim());
  return match ? match[1] : null;
}

import { RateLimitedError } from '../errors';

/**
 * Fixed one-minute window per key (token id), counted in cost units (see `Admission`: one per request,
 * one per root field of a GraphQL operation). In-process: each replica enforces its own share.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts `cost` units for `key`; throws RATE_LIMITED with a retry hint past the limit. 0 disables. */
  hit(key: string, cost = 1): void {
    if (this.perMinute <= 0) return;
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= 60_000) {
      w = { start: t, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.prune(t);
    }
    w.count += cost;
    if (w.count > this.perMinute) {
      throw new RateLimitedError('Too many requests for this token', {
        retryAfterSeconds: Math.ceil((w.start + 60_000 - t) / 1000),
      });
    }
  }

  private prune(t: number): void {
    for (const [key, w] of this.windows) if (t - w.start >= 60_000) this.windows.delete(key);
  }
}

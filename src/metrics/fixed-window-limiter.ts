import type { Clock } from '../ports/clock';

/** The answer of {@link FixedWindowLimiter.tryTake}. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * An in-isolate budget of `limit` units per fixed window. It protects downstream writes from
 * one isolate's bursts; it is not a global quota (each isolate has its own window).
 *
 * @example
 * const limiter = new FixedWindowLimiter({ limit: 600, windowMs: 60_000, clock: systemClock });
 * if (!limiter.tryTake(events.length).ok) return tooManyRequests();
 */
export class FixedWindowLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(private readonly options: { limit: number; windowMs: number; clock: Clock }) {}

  /** Takes `units` from the current window, all or nothing. */
  tryTake(units = 1): TakeResult {
    const now = this.options.clock.now();
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used + units > this.options.limit) {
      const retryAfterMs = this.windowStart + this.options.windowMs - now;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
    }
    this.used += units;
    return { ok: true };
  }
}

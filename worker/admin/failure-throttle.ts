/** Options of {@link FailureThrottle}. */
export interface FailureThrottleOptions {
  /** Failures allowed per window; the next attempt is refused. */
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at most, so a flood of addresses cannot grow the isolate's memory. */
  maxTracked?: number;
}

interface Window {
  failures: number;
  startedAt: number;
}

/**
 * Counts failed authentications per client address in fixed windows, in this isolate. Enough to
 * make guessing the token from one address hopeless; it is not a global rate limit.
 *
 * @example
 * const throttle = new FailureThrottle({ maxFailures: 10, windowMs: 60_000 });
 * if (throttle.retryAfterSeconds(ip, now) > 0) return tooMany();
 */
export class FailureThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly options: FailureThrottleOptions) {}

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryAfterSeconds(address: string, now: number): number {
    const window = this.current(address, now);
    if (!window || window.failures < this.options.maxFailures) return 0;
    return Math.max(1, Math.ceil((window.startedAt + this.options.windowMs - now) / 1000));
  }

  recordFailure(address: string, now: number): void {
    const window = this.current(address, now);
    if (window) {
      window.failures++;
      return;
    }
    this.makeRoom(now);
    this.windows.set(address, { failures: 1, startedAt: now });
  }

  private current(address: string, now: number): Window | undefined {
    const window = this.windows.get(address);
    if (window && now - window.startedAt >= this.options.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private makeRoom(now: number): void {
    const max = this.options.maxTracked ?? 10_000;
    if (this.windows.size < max) return;
    for (const [address, window] of this.windows)
      if (now - window.startedAt >= this.options.windowMs) this.windows.delete(address);
    // Still full: forget the oldest windows (Map order is insertion order).
    for (const address of this.windows.keys()) {
      if (this.windows.size < max) break;
      this.windows.delete(address);
    }
  }
}

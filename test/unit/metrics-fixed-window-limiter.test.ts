import { describe, expect, it } from 'vitest';
import { FixedWindowLimiter } from '../../src/metrics/outcome-events';

function limiter(limit: number) {
  const clock = {
    ms: 1_000_000,
    now() {
      return this.ms;
    },
  };
  return { clock, limiter: new FixedWindowLimiter({ limit, windowMs: 60_000, clock }) };
}

describe('FixedWindowLimiter', () => {
  it('grants up to the limit per window, all or nothing, then refuses with the seconds left', () => {
    const { clock, limiter: l } = limiter(10);
    expect(l.tryTake(6)).toEqual({ ok: true });
    expect(l.tryTake(5)).toEqual({ ok: false, retryAfterSeconds: 60 });
    expect(l.tryTake(4)).toEqual({ ok: true });
    clock.ms += 45_500;
    expect(l.tryTake(1)).toEqual({ ok: false, retryAfterSeconds: 15 });
  });

  it('starts a fresh budget once the window has passed', () => {
    const { clock, limiter: l } = limiter(3);
    expect(l.tryTake(3).ok).toBe(true);
    clock.ms += 60_000;
    expect(l.tryTake(3).ok).toBe(true);
    expect(l.tryTake(1).ok).toBe(false);
  });
});

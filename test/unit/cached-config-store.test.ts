import { afterEach, describe, expect, it, vi } from 'vitest';
import { CachedConfigStore } from '../../src/config/cached-config-store';
import { RolloutConfigSchema, safeDefaultConfig } from '../../src/config/config-schema';
import type { RawConfigSource } from '../../src/ports';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const config = (version: number, percent: number) =>
  RolloutConfigSchema.parse({ version, rollout: { percent, salt: 's', state: 'ramping' } });

/** A source whose reads the test settles by hand. */
function manualSource() {
  const pending: ((value: { config: string | null; kill: string | null }) => void)[] = [];
  const source: RawConfigSource = { readRaw: () => new Promise((resolve) => pending.push(resolve)) };
  return {
    source,
    pending,
    answer: (i: number, c: unknown) => pending[i]!({ config: JSON.stringify(c), kill: null }),
  };
}

function store(source: RawConfigSource, clock = { ms: 0 }) {
  return new CachedConfigStore(source, {
    ttlMs: 5_000,
    clock: { now: () => clock.ms },
    logger: quiet,
    safeDefault: safeDefaultConfig({}),
  });
}

describe('CachedConfigStore', () => {
  afterEach(() => vi.useRealTimers());

  it('does not let a KV read that started before an admin write overwrite it', async () => {
    const { source, answer } = manualSource();
    const clock = { ms: 0 };
    const s = store(source, clock);
    const first = s.read();
    answer(0, config(1, 10));
    await first;
    clock.ms = 6_000;
    const stale = s.read(); // a refresh starts and reads version 2 from a lagging KV location
    s.prime(config(3, 100));
    answer(1, config(2, 50));
    expect((await stale).config.version).toBe(3);
    expect((await s.read()).config.version).toBe(3);
  });

  it('keeps the newer of two primed versions when writes are answered out of order', async () => {
    const s = store(manualSource().source);
    expect(s.prime(config(6, 50))).toBe(true);
    expect(s.prime(config(5, 10))).toBe(false);
    expect((await s.read()).config.version).toBe(6);
    expect(s.prime(config(7, 100))).toBe(true);
    expect((await s.read()).config.rollout.percent).toBe(100);
  });

  it('replaces a shared cold-start read that never settles, so waiting requests are not stuck', async () => {
    vi.useFakeTimers();
    const { source, pending, answer } = manualSource();
    const clock = { ms: 0 };
    const s = store(source, clock);
    void s.read(); // the request that started this read was cancelled: it never settles
    const waiter = s.read();
    expect(pending).toHaveLength(1);
    clock.ms = 2_500;
    await vi.advanceTimersByTimeAsync(2_500);
    expect(pending).toHaveLength(2);
    answer(1, config(4, 20));
    expect((await waiter).config.version).toBe(4);
  });

  it('shares one read among concurrent cold requests while it is young', async () => {
    const { source, pending, answer } = manualSource();
    const s = store(source);
    const reads = [s.read(), s.read(), s.read()];
    expect(pending).toHaveLength(1);
    answer(0, config(5, 30));
    expect((await Promise.all(reads)).map((r) => r.config.version)).toEqual([5, 5, 5]);
  });
});

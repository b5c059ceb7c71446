import { describe, expect, it } from 'vitest';
import { CachedConfigStore } from '../../src/config/cached-config-store';
import type { CommittedValue } from '../../src/config/committed-version';
import {
  MAX_KILL_TEXT,
  RolloutConfigSchema,
  parseKillSwitch,
  safeDefaultConfig,
} from '../../src/config/config-schema';
import type { RawConfigValues } from '../../src/ports';
import {
  HEAD_REFRESH,
  cachedHeadUsable,
  headCheckDue,
  waitForHeadMs,
  type CachedHead,
} from '../../src/propagation/head-decisions';
import {
  HeadRefresher,
  type ControlPlaneHeads,
  type LocationHeadCache,
} from '../../src/propagation/head-refresher';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const config = (version: number, percent = 10) =>
  RolloutConfigSchema.parse({ version, rollout: { percent, salt: 's', state: 'ramping' } });
const committed = (epoch: number, version: number, kill: string | null = null): CommittedValue => ({
  epoch,
  version,
  kill,
  committedAt: 0,
  config: config(version),
});

/** A KV whose next answer the test sets. */
function kvOf(values: RawConfigValues) {
  const kv = { values };
  return { kv, source: { readRaw: async () => kv.values } };
}

function storeOver(source: { readRaw(): Promise<RawConfigValues> }, clock = { ms: 0 }) {
  return new CachedConfigStore(source, {
    ttlMs: 5_000,
    clock: { now: () => clock.ms },
    logger: quiet,
    safeDefault: safeDefaultConfig({}),
  });
}

describe('versions never go backwards in an isolate (issue 21 M2a)', () => {
  it('ignores an older version that KV answers after a newer one, and keeps its API kill', async () => {
    const clock = { ms: 0 };
    const { kv, source } = kvOf({
      config: null,
      kill: null,
      committed: JSON.stringify(committed(1, 3, 'canary')),
    });
    const store = storeOver(source, clock);
    expect((await store.read()).config.version).toBe(3);
    kv.values = { config: JSON.stringify(config(0)), kill: null, committed: JSON.stringify(committed(1, 0)) };
    clock.ms += 6_000;
    const snapshot = await store.read();
    expect(snapshot.config.version).toBe(3);
    expect(snapshot.kill.canary).toBe(true);
  });

  it('takes a restarted control plane (a later epoch from version 0), and then ignores the old epoch', async () => {
    const clock = { ms: 0 };
    const { kv, source } = kvOf({ config: null, kill: null, committed: JSON.stringify(committed(1, 40)) });
    const store = storeOver(source, clock);
    await store.read();
    expect(store.offer(committed(2, 0))).toBe(true);
    clock.ms += 6_000;
    expect((await store.read()).epoch).toBe(2);
    kv.values = { config: null, kill: null, committed: JSON.stringify(committed(1, 41)) };
    clock.ms += 6_000;
    expect(store.head()).toEqual({ epoch: 2, version: 0 });
  });

  it('still takes the hand kill from every read, whatever version KV holds', async () => {
    const clock = { ms: 0 };
    const { kv, source } = kvOf({ config: null, kill: null, committed: JSON.stringify(committed(1, 5)) });
    const store = storeOver(source, clock);
    await store.read();
    kv.values = { config: null, kill: 'canary', committed: JSON.stringify(committed(1, 4)) };
    clock.ms += 6_000;
    const snapshot = await store.read();
    expect(snapshot.config.version).toBe(5);
    expect(snapshot.kill.canary).toBe(true);
  });

  it('reads a control plane one version back (config + kill:api only) and a newer plain config over a stale committed value', async () => {
    const { kv, source } = kvOf({ config: JSON.stringify(config(2)), kill: null, apiKill: 'canary' });
    const clock = { ms: 0 };
    const store = storeOver(source, clock);
    expect((await store.read()).kill.canary).toBe(true);
    kv.values = {
      config: JSON.stringify(config(4)),
      kill: null,
      apiKill: null,
      committed: JSON.stringify(committed(1, 3, 'canary')),
    };
    clock.ms += 6_000;
    const snapshot = await store.read();
    expect(snapshot.config.version).toBe(4);
    expect(snapshot.kill.canary).toBe(false);
  });
});

describe('an unreadable hand kill fails safe (issue 21 L6)', () => {
  it('stops the canary when the value is longer than the limit, even if it ends in "canary"', () => {
    const kill = parseKillSwitch(`${'x'.repeat(5_890)} canary`);
    expect(kill.canary).toBe(true);
    expect(kill.unreadable).toContain(String(MAX_KILL_TEXT));
  });

  it('stops the canary when no token is known, and says why', () => {
    for (const text of ['yes', '1', '{"canary":true}']) {
      const kill = parseKillSwitch(text);
      expect(kill.canary, text).toBe(true);
      expect(kill.unreadable, text).toMatch(/no known token/);
    }
  });

  it('reads a valid value as before: a flag kill leaves the canary alone', () => {
    const kill = parseKillSwitch('flag:emailDelivery typo');
    expect(kill.canary).toBe(false);
    expect(kill.unreadable).toBeUndefined();
    expect([...kill.flags]).toEqual(['emailDelivery']);
  });
});

describe('head refresh decisions', () => {
  it('checks at most once per interval, and lets only a new or idle isolate wait, at most coldWaitMs', () => {
    expect(headCheckDue(10_000, undefined, HEAD_REFRESH)).toBe(true);
    expect(headCheckDue(10_000, 10_000 - HEAD_REFRESH.intervalMs + 1, HEAD_REFRESH)).toBe(false);
    expect(headCheckDue(10_000, 10_000 - HEAD_REFRESH.intervalMs, HEAD_REFRESH)).toBe(true);
    expect(waitForHeadMs(10_000, undefined, HEAD_REFRESH)).toBe(HEAD_REFRESH.coldWaitMs);
    expect(waitForHeadMs(10_000, 10_000 - HEAD_REFRESH.freshnessBoundMs - 1, HEAD_REFRESH)).toBe(50);
    expect(waitForHeadMs(10_000, 9_000, HEAD_REFRESH)).toBe(0);
  });

  it('uses a location cache entry younger than the interval, never one from the future', () => {
    const entry = (fetchedAt: number): CachedHead => ({
      head: { epoch: 1, version: 1, kill: null, committedAt: 0 },
      fetchedAt,
    });
    expect(cachedHeadUsable(entry(9_000), 10_000, HEAD_REFRESH)).toBe(true);
    expect(cachedHeadUsable(entry(8_000), 10_000, HEAD_REFRESH)).toBe(false);
    expect(cachedHeadUsable(entry(11_000), 10_000, HEAD_REFRESH)).toBe(false);
    expect(cachedHeadUsable(undefined, 10_000, HEAD_REFRESH)).toBe(false);
  });
});

describe('HeadRefresher', () => {
  function world(plane: Partial<ControlPlaneHeads>) {
    const clock = { ms: 100_000 };
    const { kv, source } = kvOf({ config: null, kill: null, committed: JSON.stringify(committed(1, 1)) });
    const store = storeOver(source, clock);
    const shared: { head?: CachedHead } = {};
    const cache: LocationHeadCache = {
      getHead: async () => shared.head,
      putHead: async (entry) => void (shared.head = entry),
      getCommitted: async () => undefined,
      putCommitted: async () => {},
    };
    const calls = { head: 0, committed: 0 };
    const refresher = new HeadRefresher({
      plane: {
        head: async () => (calls.head++, plane.head?.()),
        committed: async (head) => (calls.committed++, plane.committed?.(head)),
      },
      cache,
      store,
      clock: { now: () => clock.ms },
      logger: quiet,
    });
    return { clock, kv, store, refresher, shared, calls };
  }

  it('brings a newer committed version from the control plane although KV still holds the old one', async () => {
    const value = committed(1, 2, 'canary');
    const { store, refresher } = world({
      head: async () => ({ epoch: 1, version: 2, kill: 'canary', committedAt: 0 }),
      committed: async () => value,
    });
    const wrapped = refresher.wrap();
    expect((await wrapped.read()).config.version).toBe(2);
    expect((await store.read()).kill.canary).toBe(true);
  });

  it('asks the control plane at most once per interval per location: a second isolate uses the shared head', async () => {
    const head = { epoch: 1, version: 1, kill: null, committedAt: 0 };
    const a = world({ head: async () => head });
    await a.refresher.checkNow();
    const b = world({ head: async () => head });
    b.shared.head = a.shared.head;
    await b.refresher.checkNow();
    expect(a.calls.head + b.calls.head).toBe(1);
  });

  it('serves the KV replica with no error and no long wait when the control plane is down', async () => {
    const { refresher } = world({ head: () => Promise.reject(new Error('down')) });
    const wrapped = refresher.wrap();
    const snapshot = await wrapped.read();
    expect(snapshot.config.version).toBe(1);
    expect(snapshot.source).toBe('kv');
  });

  it('falls back to KV when the control plane names a newer head it cannot send', async () => {
    const { kv, store, refresher, clock } = world({
      head: async () => ({ epoch: 1, version: 3, kill: null, committedAt: 0 }),
      committed: async () => undefined,
    });
    await store.read();
    kv.values = { config: null, kill: null, committed: JSON.stringify(committed(1, 3)) };
    clock.ms += 1;
    await refresher.checkNow();
    expect(store.head()).toEqual({ epoch: 1, version: 3 });
  });
});

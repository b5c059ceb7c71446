import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { configAt, countingKv, putConfig, testApp } from '../support/in-workerd/test-app';

const kvOf = () => (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;

function throwingKv(kv: KVNamespace): { kv: KVNamespace; setBroken(broken: boolean): void } {
  let broken = false;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === 'get') {
        return (...args: unknown[]) => {
          if (broken) return Promise.reject(new Error('KV GET failed: 500 Internal Server Error'));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { kv: proxy, setBroken: (b) => (broken = b) };
}

describe('config store', () => {
  it('reads KV at most once per cache period, whatever the request rate', async () => {
    const counter = countingKv(kvOf());
    await putConfig(counter.kv, configAt(50));
    const { request, clock } = testApp({ kv: counter.kv });
    const burst = await Promise.all(Array.from({ length: 100 }, (_, i) => request(`/burst/${i}`)));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    expect(counter.reads()).toBe(1);
    for (let i = 0; i < 50; i++) await request(`/sequential/${i}`);
    expect(counter.reads()).toBe(1);
    clock.advance(5_001);
    await Promise.all(Array.from({ length: 50 }, (_, i) => request(`/after/${i}`)));
    expect(counter.reads()).toBe(2);
  });

  it('serves the last known good config when KV turns invalid, and logs the incident once', async () => {
    const { request, clock, logger, kv } = testApp();
    await putConfig(kv, configAt(100));
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('canary');
    for (const bad of ['{not json', JSON.stringify({ version: 2, rollout: { percent: 250, salt: 's' } })]) {
      await putConfig(kv, bad);
      for (let i = 0; i < 3; i++) {
        clock.advance(6_000);
        const response = await request(`/lkg/${i}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('x-rollout-cohort')).toBe('canary');
      }
    }
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.map((e) => e.message.split(':')[0])).toEqual([
      'invalid config in KV',
      'invalid config in KV',
    ]);
    expect(errors[0]!.message).toContain('not valid JSON');
    expect(errors[1]!.message).toContain('rollout.percent');
  });

  it('serves the last known good config when the key is deleted, and the safe default when none was ever read', async () => {
    const fresh = testApp();
    await fresh.kv.put('config', '{"version":1}');
    const safe = await fresh.request('/');
    expect(safe.status).toBe(200);
    expect(safe.headers.get('x-rollout-cohort')).toBe('stable');
    const flags = JSON.parse(((await safe.json()) as EchoBody).headers['x-feature-flags'] as string);
    expect(flags).toEqual({ fileStorage: false, templates: false, emailDelivery: false, analytics: true });

    await putConfig(fresh.kv, configAt(100));
    fresh.clock.advance(6_000);
    expect((await fresh.request('/')).headers.get('x-rollout-cohort')).toBe('canary');
    await fresh.kv.delete('config');
    fresh.clock.advance(6_000);
    expect((await fresh.request('/')).headers.get('x-rollout-cohort')).toBe('canary');
  });

  it('survives a throwing KV with no 5xx, keeps serving, and recovers', async () => {
    const broken = throwingKv(kvOf());
    await putConfig(broken.kv, configAt(100));
    const { request, clock, logger } = testApp({ kv: broken.kv });
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('canary');
    broken.setBroken(true);
    for (let i = 0; i < 5; i++) {
      clock.advance(6_000);
      const response = await request(`/down/${i}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-rollout-cohort')).toBe('canary');
    }
    expect(logger.lines.filter((l) => l.message.startsWith('config store unreachable'))).toHaveLength(1);
    broken.setBroken(false);
    await putConfig(broken.kv, configAt(0));
    clock.advance(6_000);
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('stable');
    expect(logger.lines.some((l) => l.message === 'config store recovered')).toBe(true);
  });

  it('serves the safe default from a cold isolate whose KV throws', async () => {
    const broken = throwingKv(kvOf());
    broken.setBroken(true);
    const { request } = testApp({ kv: broken.kv });
    const response = await request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
  });

  it('makes a primed config current at once, without waiting for the cache period', async () => {
    const { request, store, kv } = testApp();
    await putConfig(kv, configAt(0));
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('stable');
    const primed = await store.read();
    store.prime({
      ...primed.config,
      version: 2,
      rollout: { ...primed.config.rollout, percent: 100, state: 'ramping' },
    });
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('canary');
  });
});

describe('kill switch written by this isolate', () => {
  it('applies at once, without waiting for the cache period, and lifts at once too', async () => {
    const { request, store, kv } = testApp();
    await putConfig(kv, configAt(100));
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('canary');
    store.primeKill('canary');
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('stable');
    store.primeKill(null);
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('canary');
  });

  it('leaves a cold isolate to read KV rather than caching a guess', async () => {
    const { request, store, kv } = testApp();
    await putConfig(kv, configAt(100));
    store.primeKill('canary');
    // Nothing cached yet: the first request reads the config (100 %) and the real kill key (none).
    expect((await request('/')).headers.get('x-rollout-cohort')).toBe('canary');
  });
});

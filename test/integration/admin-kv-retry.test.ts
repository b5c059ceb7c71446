import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../../src/admin/history-and-audit';
import { executeCommand } from '../../worker/admin/execute-command';
import { retryWait } from '../../worker/admin/kv-retry';
import { testApp } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789';
const realKv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;

/**
 * The real Miniflare namespace, except that writes to the chosen keys fail the way KV's per-key
 * rate limit does, `failures` times (Infinity: for good). Counts the attempts per key.
 */
function rateLimitedKv(
  keys: (key: string) => boolean,
  failures: number,
  message = 'KV PUT failed: 429 Too Many Requests',
) {
  const attempts = new Map<string, number>();
  let left = failures;
  const kv = new Proxy(realKv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if ((prop === 'put' || prop === 'delete') && typeof value === 'function')
        return async (key: string, ...rest: unknown[]) => {
          if (keys(key)) {
            attempts.set(key, (attempts.get(key) ?? 0) + 1);
            if (left > 0) {
              left--;
              throw new Error(message);
            }
          }
          return (value as (...a: unknown[]) => Promise<unknown>).call(target, key, ...rest);
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { kv, attempts };
}

async function snapshot(): Promise<Map<string, string | null>> {
  const keys = (await realKv.list()).keys.map((k) => k.name).sort();
  return new Map(await Promise.all(keys.map(async (key) => [key, await realKv.get(key)] as const)));
}

/**
 * Records the retry's waits instead of spending them: the admin routes use the default delays
 * (250 + 500 + 1000 ms), which would cost 1.75 s of real time per test.
 */
function recordRetryWaits(): number[] {
  const waits: number[] = [];
  vi.spyOn(retryWait, 'sleep').mockImplementation(async (ms) => {
    waits.push(ms);
  });
  return waits;
}

beforeEach(async () => {
  for (const key of (await realKv.list()).keys) await realKv.delete(key.name);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('KV write rate limit (429)', () => {
  it('is retried: two 429s on `config` and the change still lands, once, with history and audit', async () => {
    const { kv, attempts } = rateLimitedKv((key) => key === 'config', 2);
    const { deps } = testApp({ kv });
    const ctx = {
      kv,
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      settings: deps.settings,
      retryDelaysMs: [5, 5, 5],
    };
    const result = await executeCommand(ctx, { type: 'set-percent', percent: 10 }, { actor: 'guard' });
    expect(result).toMatchObject({ ok: true, config: { version: 1, rollout: { percent: 10 } } });
    expect(attempts.get('config')).toBe(3);
    expect(JSON.parse((await realKv.get('config'))!)).toEqual(result.ok && result.config);
    expect(await realKv.get('history:0000000001')).toBe(await realKv.get('config'));
    const audit = (await realKv.list({ prefix: 'audit:' })).keys;
    expect(audit).toHaveLength(1);
    expect((await realKv.get<AuditEntry>(audit[0]!.name, 'json'))?.actor).toBe('guard');
  });

  it('that persists answers 503 with Retry-After and leaves KV exactly as it was', async () => {
    const { request } = testApp();
    const seed = await request('/__rollout/percent', {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{"percent":5}',
    });
    expect(seed.status).toBe(200);
    const before = await snapshot();

    const { kv, attempts } = rateLimitedKv((key) => key === 'config', Infinity);
    const limited = testApp({ kv });
    const waits = recordRetryWaits();
    const response = await limited.request('/__rollout/percent', {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{"percent":50}',
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as { error: string }).error).toContain('nothing changed');
    // One attempt plus three retries, waiting 250 + 500 + 1000 ms in between.
    expect(attempts.get('config')).toBe(4);
    expect(waits).toEqual([250, 500, 1000]);
    expect(await snapshot()).toEqual(before);
    // The isolate was not primed with the lost change either.
    const visit = await limited.request('/', { headers: { cookie: 'rollout_id=visitor-0001' } });
    expect(visit.headers.get('x-rollout-cohort')).toBe('stable');
  });

  it('on the history write fails before anything is written', async () => {
    const { kv } = rateLimitedKv((key) => key.startsWith('history:'), Infinity);
    const { deps } = testApp({ kv });
    const ctx = {
      kv,
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      settings: deps.settings,
      retryDelaysMs: [1],
    };
    const result = await executeCommand(ctx, { type: 'set-percent', percent: 10 }, { actor: 'token' });
    expect(result).toMatchObject({ ok: false, status: 503, retryAfterSeconds: 2 });
    expect((await realKv.list()).keys).toEqual([]);
  });

  it('is not how other KV failures are treated: they are not retried, and still change nothing', async () => {
    const { kv, attempts } = rateLimitedKv(
      (key) => key === 'config',
      Infinity,
      'KV PUT failed: 500 Internal Server Error',
    );
    const { deps } = testApp({ kv });
    const ctx = {
      kv,
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      settings: deps.settings,
      retryDelaysMs: [1, 1],
    };
    const result = await executeCommand(ctx, { type: 'set-percent', percent: 10 }, { actor: 'token' });
    expect(result).toMatchObject({ ok: false, status: 503, retryAfterSeconds: 5 });
    expect(attempts.get('config')).toBe(1);
    expect((await realKv.list()).keys).toEqual([]);
  });

  it('on the kill switch answers 503 and leaves the switch as it was', async () => {
    const { request } = testApp();
    await realKv.put('kill', 'flag:templates');
    const { kv, attempts } = rateLimitedKv((key) => key === 'kill', Infinity);
    const limited = testApp({ kv });
    const waits = recordRetryWaits();
    const response = await limited.request('/__rollout/kill', {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{"canary":true}',
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(attempts.get('kill')).toBe(4);
    expect(waits).toEqual([250, 500, 1000]);
    expect(await realKv.get('kill')).toBe('flag:templates');
    expect((await realKv.list({ prefix: 'audit:' })).keys).toEqual([]);
    expect((await request('/__rollout/health')).status).toBe(200);
  });
});

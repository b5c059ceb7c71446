import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createEdgeApp, type EdgeApp } from '../../worker/edge/edge-app';
import { buildRuntime } from '../../worker/edge/runtime';
import { HEAD_REFRESH } from '../../src/propagation/head-decisions';
import type { HeadRefresher } from '../../src/propagation/head-refresher';
import { testVars } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * Issue 23's acceptance, in workerd with the real control Worker behind the service binding.
 * Location A takes the writes; location B is another isolate (its own app, store and location
 * cache) whose KV is frozen: it keeps answering what it held before the writes, as a location
 * whose KV has not yet seen them. B learns each write only through its head refresh.
 */

interface Location {
  app: EdgeApp;
  refresh: HeadRefresher;
  env: EdgeEnv;
}

async function location(name: string, overrides: Record<string, unknown> = {}): Promise<Location> {
  const { ADMIN_TOKEN: _token, ...vars } = testVars();
  const edgeEnv = { ...(env as unknown as EdgeEnv), ...vars, ...overrides } as EdgeEnv;
  const runtime = buildRuntime(edgeEnv, { locationCache: await caches.open(`location-${name}`) });
  if (!runtime.ok) throw new Error(runtime.issues.join('; '));
  return { app: createEdgeApp(runtime.deps), refresh: runtime.headRefresh, env: edgeEnv };
}

/** A KV namespace that answers, for ever, what `kv` held when it was frozen; writes are refused. */
async function frozen(kv: KVNamespace): Promise<KVNamespace> {
  const keys = ['config', 'kill', 'kill:api', 'committed'];
  const held = await kv.get(keys, 'text');
  return {
    get: async (key: string | string[]) =>
      Array.isArray(key) ? new Map(key.map((k) => [k, held.get(k) ?? null])) : (held.get(key) ?? null),
    put: async () => Promise.reject(new Error('KV frozen')),
    delete: async () => Promise.reject(new Error('KV frozen')),
  } as unknown as KVNamespace;
}

async function send(at: Location, method: string, path: string, body?: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  at.refresh.keepAlive = (promise) => ctx.waitUntil(promise);
  const response = await at.app.fetch(
    new Request(`https://app.example.com${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    at.env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** The cohorts of `n` visitors (distinct ids) at a location. */
async function cohorts(at: Location, n = 6): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const ctx = createExecutionContext();
    at.refresh.keepAlive = (promise) => ctx.waitUntil(promise);
    const response = await at.app.fetch(
      new Request('https://app.example.com/invoices', {
        headers: { cookie: `rollout_id=visitor-${i}-abcdefgh` },
      }),
      at.env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    seen.push(response.headers.get('x-rollout-cohort') ?? 'none');
  }
  return seen;
}

describe('a write reaches a location whose KV has not seen it, through the head refresh (issue 23)', () => {
  it('ramp, kill and abort: after its first completed refresh, every visitor request at B carries the write', async () => {
    const a = await location('a');
    const b = await location('b', { ROLLOUT: await frozen((env as unknown as EdgeEnv).ROLLOUT) });

    const { STABLE_ORIGIN: stable, CANARY_ORIGIN: canary } = testVars();
    const steps: [string, string, unknown, (seen: string[]) => void][] = [
      [
        'PUT',
        '/__rollout/config',
        { origins: { stable, canary }, rollout: { percent: 100, salt: `s-${Date.now()}`, state: 'ramping' } },
        (seen) => expect(new Set(seen)).toEqual(new Set(['canary'])),
      ],
      [
        'PUT',
        '/__rollout/kill',
        { canary: true },
        (seen) => expect(new Set(seen)).toEqual(new Set(['stable'])),
      ],
      ['DELETE', '/__rollout/kill', undefined, (seen) => expect(new Set(seen)).toEqual(new Set(['canary']))],
      [
        'POST',
        '/__rollout/abort',
        { reason: 'test' },
        (seen) => expect(new Set(seen)).toEqual(new Set(['stable'])),
      ],
    ];
    for (const [method, path, body, expectAtB] of steps) {
      const written = await send(a, method, path, body);
      expect(written.status, `${method} ${path}`).toBe(200);
      const committedAt = Date.now();
      // B's location cache may hold a head from before the commit for up to one interval.
      await scheduler.wait(HEAD_REFRESH.intervalMs);
      await b.refresh.checkNow();
      console.log(`${method} ${path}: B refreshed ${Date.now() - committedAt} ms after the commit`);
      expectAtB(await cohorts(b));
    }
  });

  it('serves every GET with the KV replica and no error while the control plane is down', async () => {
    const down = { fetch: async () => Promise.reject(new Error('connection refused')) };
    const c = await location('c', { CONTROL_PLANE: down });
    let failed = 0;
    for (let round = 0; round < 5; round++) {
      await c.refresh.checkNow();
      for (const cohort of await cohorts(c, 8)) if (cohort === 'none') failed++;
    }
    expect(failed).toBe(0);
  });
});

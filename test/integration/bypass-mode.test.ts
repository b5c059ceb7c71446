import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { testApp } from '../support/in-workerd/test-app';

const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;
// CONFIG_CACHE_SECONDS in the test vars.
const CACHE_MS = 5000;

const FULL_CANARY = {
  rollout: { percent: 100, salt: 'launch-1' },
  flags: { templates: { enabled: true, percent: 100 } },
};

beforeEach(async () => {
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

/** A visitor's POST with a body, a query, its own headers and forged rollout headers. */
async function visit(app: ReturnType<typeof testApp>, cookie = 'rollout_id=visitor-0001') {
  app.clock.advance(CACHE_MS + 1);
  const response = await app.request('/api/invoices?draft=1', {
    method: 'POST',
    headers: {
      cookie,
      'content-type': 'application/json',
      'x-app-trace': 'abc',
      'x-rollout-cohort': 'canary',
      'x-feature-flags': '{"templates":true}',
    },
    body: '{"amount":42}',
  });
  return { response, echo: (await response.json()) as EchoBody };
}

describe('bypass mode', () => {
  it('PUT /bypass sends a 100 % canary visitor to stable unchanged: no cookie, no flags header, forged rollout headers dropped', async () => {
    const app = testApp();
    expect((await app.admin('PUT', '/config', FULL_CANARY)).status).toBe(200);
    const before = await visit(app);
    expect(before.echo.origin).toBe('canary');

    const on = await app.admin('PUT', '/bypass', { reason: 'first deploy misbehaves' });
    expect(on.status).toBe(200);
    expect(on.body.changed).toBe(true);
    expect(on.body.kill.bypass).toEqual({ active: true, api: true, hand: null });
    expect(await kv.get('kill:api')).toBe('bypass');

    // A visitor without a cookie gets none: bypass issues nothing.
    const { response, echo } = await visit(app, 'other=1');
    expect(echo.origin).toBe('stable');
    expect(echo.method).toBe('POST');
    expect(echo.path).toBe('/api/invoices');
    expect(echo.query).toBe('?draft=1');
    expect(echo.bodyBytes).toBe(13);
    expect(echo.headers['x-app-trace']).toBe('abc');
    expect(echo.headers['cookie']).toBe('other=1');
    expect(echo.headers['x-feature-flags']).toBeUndefined();
    expect(echo.headers['x-rollout-cohort']).toBe('stable');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
    // One data point still, on stable.
    expect(app.metrics.metrics.at(-1)).toMatchObject({ cohort: 'stable', method: 'POST', status: 200 });

    // The admin prefix keeps answering, so bypass can be lifted; the audit names it.
    const audit = await app.admin('GET', '/audit');
    expect(audit.body.entries[0]).toMatchObject({
      action: 'bypass',
      reason: 'first deploy misbehaves',
      after: { kill: 'bypass' },
    });
    const off = await app.admin('DELETE', '/bypass');
    expect(off.status).toBe(200);
    expect(off.body.kill.bypass).toBeUndefined();
    expect(await kv.get('kill:api')).toBeNull();
    expect((await visit(app)).echo.origin).toBe('canary');
  });

  it('a kill and a bypass never lift each other, and a repeated PUT /bypass changes nothing', async () => {
    const app = testApp();
    await app.admin('PUT', '/config', FULL_CANARY);
    await app.admin('PUT', '/kill', { flags: ['templates'] });
    const on = await app.admin('PUT', '/bypass');
    expect(on.body.kill.sources.api).toBe('flag:templates bypass');
    expect((await app.admin('PUT', '/bypass')).body.changed).toBe(false);
    const unkilled = await app.admin('DELETE', '/kill');
    expect(unkilled.body.kill.sources.api).toBe('bypass');
    expect(unkilled.body.kill.bypass.active).toBe(true);
    await app.admin('PUT', '/kill', { canary: true });
    const unbypassed = await app.admin('DELETE', '/bypass');
    expect(unbypassed.body.kill.sources.api).toBe('canary');
    expect(unbypassed.body.kill.bypass).toBeUndefined();
  });

  it('KV "bypass" = "on", put by hand, bypasses with no admin API involved; GET /state shows it; a delete lifts it', async () => {
    const app = testApp();
    await app.admin('PUT', '/config', FULL_CANARY);
    await kv.put('bypass', 'on');
    const { response, echo } = await visit(app);
    expect(echo.origin).toBe('stable');
    expect(echo.headers['x-feature-flags']).toBeUndefined();
    expect(response.headers.get('set-cookie')).toBeNull();
    const state = await app.admin('GET', '/state');
    expect(state.body.kill.bypass).toEqual({ active: true, api: false, hand: 'on' });
    // OFREP keeps answering under bypass.
    const ofrep = await app.request('/ofrep/v1/evaluate/flags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey: 'visitor-0001' } }),
    });
    expect(ofrep.status).toBe(200);
    await kv.delete('bypass');
    expect((await visit(app)).echo.origin).toBe('canary');
  });

  it('an unreadable KV "bypass" value turns bypass on and says so in GET /state', async () => {
    const app = testApp();
    await app.admin('PUT', '/config', FULL_CANARY);
    await kv.put('bypass', 'yes please');
    expect((await visit(app)).echo.origin).toBe('stable');
    const state = await app.admin('GET', '/state');
    expect(state.body.kill.bypass.active).toBe(true);
    expect(state.body.kill.bypass.handUnreadable).toMatch(/not on or off/);
  });
});

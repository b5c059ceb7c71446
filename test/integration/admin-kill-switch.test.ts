import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { testApp } from '../support/in-workerd/test-app';

const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;
// CONFIG_CACHE_SECONDS in the test vars: how long this isolate may keep serving what it read.
const CACHE_MS = 5000;

function setup() {
  const app = testApp();
  const call = app.admin;
  /** One proxied request, as a visitor would make it, after the isolate cache has expired. */
  const visit = async () => {
    app.clock.advance(CACHE_MS + 1);
    const response = await app.request('/invoices', { headers: { cookie: 'rollout_id=visitor-0001' } });
    const echo = (await response.json()) as EchoBody;
    return {
      cohort: response.headers.get('x-rollout-cohort'),
      origin: echo.origin,
      flags: JSON.parse(echo.headers['x-feature-flags'] as string) as Record<string, boolean>,
    };
  };
  return { ...app, call, visit };
}

const FULL_CANARY = {
  rollout: { percent: 100, salt: 'launch-1' },
  flags: {
    templates: { enabled: true, percent: 100 },
    emailDelivery: { enabled: true, percent: 100 },
  },
};

beforeEach(async () => {
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

describe('kill switch', () => {
  it('PUT /kill overrides a 100 % canary and a flag at 100 % for proxied requests; DELETE /kill lifts it', async () => {
    const { call, visit } = setup();
    expect((await call('PUT', '/config', FULL_CANARY)).status).toBe(200);
    expect(await visit()).toEqual({
      cohort: 'canary',
      origin: 'canary',
      flags: { templates: true, emailDelivery: true },
    });

    const killed = await call('PUT', '/kill', { canary: true, flags: ['templates'] });
    expect(killed.status).toBe(200);
    expect(killed.body.kill).toEqual({
      canary: true,
      allFlags: false,
      flags: ['templates'],
      raw: 'canary flag:templates',
    });
    // The same token format as the documented `wrangler kv key put` command.
    expect(await kv.get('kill')).toBe('canary flag:templates');
    expect(await visit()).toEqual({
      cohort: 'stable',
      origin: 'stable',
      flags: { templates: false, emailDelivery: true },
    });

    const lifted = await call('DELETE', '/kill');
    expect(lifted.status).toBe(200);
    expect(lifted.body.kill.raw).toBeNull();
    expect(await kv.get('kill')).toBeNull();
    expect(await visit()).toEqual({
      cohort: 'canary',
      origin: 'canary',
      flags: { templates: true, emailDelivery: true },
    });
  });

  it('works from a plain KV put of "kill" (the wrangler command), with no admin API involved, and a KV delete lifts it', async () => {
    const { call, visit } = setup();
    await call('PUT', '/config', FULL_CANARY);
    expect((await visit()).cohort).toBe('canary');

    await kv.put('kill', 'canary');
    expect(await visit()).toMatchObject({ cohort: 'stable', origin: 'stable', flags: { templates: true } });

    await kv.put('kill', 'flag:emailDelivery');
    expect(await visit()).toEqual({
      cohort: 'canary',
      origin: 'canary',
      flags: { templates: true, emailDelivery: false },
    });

    await kv.put('kill', 'all');
    expect(await visit()).toEqual({
      cohort: 'stable',
      origin: 'stable',
      flags: { templates: false, emailDelivery: false },
    });

    expect((await call('GET', '/state')).body.kill).toEqual({
      canary: true,
      allFlags: true,
      flags: [],
      raw: 'all',
    });
    await kv.delete('kill');
    expect((await visit()).cohort).toBe('canary');
  });

  it('beats a promoted rollout too, and keeps the config untouched', async () => {
    const { call, visit } = setup();
    await call('PUT', '/percent', { percent: 10 });
    await call('POST', '/promote');
    const config = await kv.get('config');
    await call('PUT', '/kill', { canary: true });
    expect((await visit()).cohort).toBe('stable');
    expect(await kv.get('config')).toBe(config);
  });

  it('refuses to kill a flag the config does not have, so a typo cannot pass for a kill', async () => {
    const { call } = setup();
    await call('PUT', '/config', FULL_CANARY);
    const response = await call('PUT', '/kill', { flags: ['template'] });
    expect(response.status).toBe(400);
    expect(response.body.issues[0]).toContain('"template" is not in the config');
    expect(await kv.get('kill')).toBeNull();
  });

  it('kills every flag with allFlags', async () => {
    const { call, visit } = setup();
    await call('PUT', '/config', FULL_CANARY);
    await call('PUT', '/kill', { allFlags: true });
    expect(await kv.get('kill')).toBe('flags');
    expect(await visit()).toEqual({
      cohort: 'canary',
      origin: 'canary',
      flags: { templates: false, emailDelivery: false },
    });
  });
});

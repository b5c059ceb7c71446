import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { testApp } from '../support/in-workerd/test-app';

const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;

// The launch's flags, none live yet: QA must see them anyway through its link.
const LAUNCH = {
  rollout: { percent: 0, salt: 'launch-1' },
  bootstrapFlags: true,
  flags: {
    templates: { enabled: false, percent: 0 },
    emailDelivery: { enabled: true, percent: 0 },
  },
};

beforeEach(async () => {
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

function setup() {
  const app = testApp();
  const open = async (url: string) => {
    const { pathname, search } = new URL(url);
    const response = await app.request(`${pathname}${search}`, { redirect: 'manual' });
    return { response, cookie: (response.headers.get('set-cookie') ?? '').split(';')[0]! };
  };
  const cookies = (override?: string) => `rollout_id=qa-browser-01${override ? `; ${override}` : ''}`;
  const visit = async (override?: string) => {
    app.clock.advance(5001);
    const response = await app.request('/dashboard', { headers: { cookie: cookies(override) } });
    const echo = (await response.json()) as EchoBody;
    return { origin: echo.origin, flags: JSON.parse(echo.headers['x-feature-flags'] as string) };
  };
  return { ...app, open, visit, cookies };
}

describe('override links that pin flags', () => {
  it('show the pinned flags to that browser only: x-feature-flags, the HTML bootstrap, OFREP and /me agree', async () => {
    const app = setup();
    expect((await app.admin('PUT', '/config', LAUNCH)).status).toBe(200);
    const created = await app.admin('POST', '/override-link', {
      cohort: 'canary',
      ttlSeconds: 600,
      flags: { templates: 'on', emailDelivery: 'on' },
    });
    expect(created.status).toBe(200);
    expect(created.body.url).toMatch(/\/__rollout\/override\?token=v2\.canary\./);
    expect(created.body.flags).toEqual({ templates: 'on', emailDelivery: 'on' });

    const { response, cookie } = await app.open(created.body.url);
    expect(response.status).toBe(302);
    expect(await app.visit(cookie)).toEqual({
      origin: 'canary',
      flags: { templates: true, emailDelivery: true },
    });
    // Another browser (no override cookie) gets the launch as it is: nothing on.
    expect(await app.visit()).toEqual({
      origin: 'stable',
      flags: { templates: false, emailDelivery: false },
    });

    const page = await app.request('/html', { headers: { cookie: app.cookies(cookie) } });
    expect(await page.text()).toContain('"templates":true');

    const ofrep = await app.request('/ofrep/v1/evaluate/flags/templates', {
      method: 'POST',
      headers: { cookie: app.cookies(cookie), 'content-type': 'application/json' },
      body: '{"context":{}}',
    });
    expect(await ofrep.json()).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      metadata: { override: true },
    });

    const me = await app.request('/__rollout/me.json', { headers: { cookie: app.cookies(cookie) } });
    const view = (await me.json()) as any;
    expect(view.routing).toMatchObject({ cohort: 'canary', reason: 'OVERRIDE' });
    expect(view.routing.flags).toEqual({ templates: true, emailDelivery: true });
    expect(view.override).toMatchObject({
      cohort: 'canary',
      pins: { templates: 'on', emailDelivery: 'on' },
      // Two visits moved the manual clock 10 s on.
      expiresInSeconds: 590,
    });
    const html = await (
      await app.request('/__rollout/me', { headers: { cookie: app.cookies(cookie) } })
    ).text();
    expect(html).toContain('<a id="clear-override" href="/__rollout/override/clear">');
  });

  it('audit the creation through the control plane, and count each use as a data point on the edge', async () => {
    const app = setup();
    await app.admin('PUT', '/config', LAUNCH);
    const created = await app.admin('POST', '/override-link', {
      cohort: 'canary',
      flags: { templates: 'on' },
      reason: 'QA of templates',
    });
    const audit = await app.admin('GET', '/audit');
    expect(audit.body.entries[0]).toMatchObject({
      id: created.body.auditId,
      action: 'override-link',
      reason: 'QA of templates',
      after: { cohort: 'canary', flags: { templates: 'on' }, expiresAt: created.body.expiresAt },
    });
    const before = app.metrics.metrics.length;
    await app.open(created.body.url);
    await app.open(created.body.url);
    const uses = app.metrics.metrics.slice(before).filter((m) => m.method === 'OVERRIDE');
    expect(uses).toHaveLength(2);
    expect(uses[0]).toMatchObject({ route: 'override', cohort: 'canary', status: 302 });
    // Opening the link wrote no audit entry: uses are data, not control-plane calls.
    expect((await app.admin('GET', '/audit')).body.entries).toHaveLength(audit.body.entries.length);
  });

  it('refuse a typo flag or variant with 400 naming what there is, and create nothing', async () => {
    const app = setup();
    await app.admin('PUT', '/config', LAUNCH);
    const entries = (await app.admin('GET', '/audit')).body.entries.length;
    const typo = await app.admin('POST', '/override-link', { cohort: 'canary', flags: { Templates: 'on' } });
    expect(typo.status).toBe(400);
    expect(typo.body.issues[0]).toMatch(/did you mean "templates"/);
    const variant = await app.admin('POST', '/override-link', {
      cohort: 'canary',
      flags: { templates: 'yes' },
    });
    expect(variant.status).toBe(400);
    expect(variant.body.issues[0]).toBe('flags.templates: no variant "yes"; it has on, off');
    expect((await app.admin('GET', '/audit')).body.entries).toHaveLength(entries);
  });

  it('GET /__rollout/override/clear leaves the override: the cookie is removed and the browser is split as usual', async () => {
    const app = setup();
    await app.admin('PUT', '/config', LAUNCH);
    const created = await app.admin('POST', '/override-link', {
      cohort: 'canary',
      flags: { templates: 'on' },
    });
    const { cookie } = await app.open(created.body.url);
    expect((await app.visit(cookie)).origin).toBe('canary');
    const cleared = await app.request('/__rollout/override/clear', {
      headers: { cookie: app.cookies(cookie) },
      redirect: 'manual',
    });
    expect(cleared.status).toBe(302);
    expect(cleared.headers.get('location')).toBe('/__rollout/me');
    expect(cleared.headers.get('set-cookie')).toBe(
      'rollout_override=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax',
    );
    // What the browser sends after the removal: no override cookie.
    expect(await app.visit()).toEqual({
      origin: 'stable',
      flags: { templates: false, emailDelivery: false },
    });
  });
});

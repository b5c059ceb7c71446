import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { testApp } from '../support/in-workerd/test-app';

const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;

function setup(vars: Record<string, string> = {}) {
  const app = testApp({ vars });
  const call = app.admin;
  const createLink = async (cohort: string, ttlSeconds?: number) => {
    const response = await call('POST', '/override-link', { cohort, ...(ttlSeconds ? { ttlSeconds } : {}) });
    expect(response.status).toBe(200);
    return response.body as { url: string; expiresAt: string };
  };
  /** Opens a link like a browser: no credentials, only the URL. */
  const open = (url: string) => {
    const { pathname, search } = new URL(url);
    return app.request(`${pathname}${search}`, { redirect: 'manual' });
  };
  const visit = async (cookie?: string) => {
    app.clock.advance(5001);
    const response = await app.request('/dashboard', {
      headers: { cookie: `rollout_id=qa-browser-01${cookie ? `; ${cookie}` : ''}` },
    });
    const echo = (await response.json()) as EchoBody;
    expect(response.headers.get('x-rollout-cohort')).toBe(echo.origin);
    return echo.origin;
  };
  return { ...app, call, createLink, open, visit };
}

function cookieFrom(response: Response): string {
  const header = response.headers.get('set-cookie') ?? '';
  return header.split(';')[0]!;
}

beforeEach(async () => {
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

describe('QA override links', () => {
  it('create a signed link under the public origin, valid for an hour by default', async () => {
    const { createLink, clock } = setup();
    const link = await createLink('canary');
    expect(link.url).toMatch(
      /^https:\/\/app\.example\.com\/__rollout\/override\?token=canary\.\d+\.[A-Za-z0-9_-]{43}$/,
    );
    expect(link.expiresAt).toBe(new Date(clock.now() + 3600_000).toISOString());
  });

  it('pin the browser that opens a canary link to the canary while the rollout is at 0 %', async () => {
    const { createLink, open, visit } = setup();
    expect(await visit()).toBe('stable');
    const opened = await open((await createLink('canary', 600)).url);
    expect(opened.status).toBe(302);
    expect(opened.headers.get('location')).toBe('/');
    expect(opened.headers.get('set-cookie')).toMatch(
      /^rollout_override=canary\.\d+\.[\w-]{43}; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=Lax$/,
    );
    const cookie = cookieFrom(opened);
    expect(await visit(cookie)).toBe('canary');
    expect(await visit(cookie)).toBe('canary');
    // Another browser, without the cookie, is split as usual.
    expect(await visit()).toBe('stable');
  });

  it('pin a browser to stable during a 100 % ramp with a stable link', async () => {
    const { call, createLink, open, visit } = setup();
    await call('PUT', '/percent', { percent: 100 });
    expect(await visit()).toBe('canary');
    const cookie = cookieFrom(await open((await createLink('stable')).url));
    expect(await visit(cookie)).toBe('stable');
  });

  it('do nothing when the token was tampered with: no cookie from the link, and a forged cookie is ignored', async () => {
    const { createLink, open, visit } = setup();
    const { url } = await createLink('stable');
    const forged = url.replace('token=stable.', 'token=canary.');
    const refused = await open(forged);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();
    const extended = url.replace(/\.(\d+)\./, (_, expiry: string) => `.${Number(expiry) + 86_400}.`);
    expect((await open(extended)).status).toBe(403);
    const token = new URL(forged).searchParams.get('token')!;
    expect(await visit(`rollout_override=${token}`)).toBe('stable');
    expect(await visit('rollout_override=canary.9999999999.AAAA')).toBe('stable');
  });

  it('do nothing once expired: the link is refused and the cookie stops pinning', async () => {
    const { createLink, open, visit, clock } = setup();
    const { url } = await createLink('canary', 60);
    const cookie = cookieFrom(await open(url));
    expect(await visit(cookie)).toBe('canary');
    clock.advance(60_000);
    expect(await visit(cookie)).toBe('stable');
    const late = await open(url);
    expect(late.status).toBe(403);
    expect(late.headers.get('set-cookie')).toBeNull();
  });

  it('lose to the kill switch and to an aborted rollout', async () => {
    const { call, createLink, open, visit } = setup();
    const cookie = cookieFrom(await open((await createLink('canary')).url));
    await kv.put('kill', 'canary');
    expect(await visit(cookie)).toBe('stable');
    await kv.delete('kill');
    expect(await visit(cookie)).toBe('canary');
    await call('PUT', '/percent', { percent: 10 });
    await call('POST', '/abort');
    expect(await visit(cookie)).toBe('stable');
  });

  it('need admin credentials to be created, but not to be opened', async () => {
    const { request, createLink, open } = setup();
    const anonymous = await request('/__rollout/override-link', {
      method: 'POST',
      body: '{"cohort":"canary"}',
    });
    expect(anonymous.status).toBe(401);
    expect((await open((await createLink('canary')).url)).status).toBe(302);
  });

  it('are disabled with 503 when OVERRIDE_SECRET is not set, and no cookie pins anything', async () => {
    const signed = setup();
    const cookie = cookieFrom(await signed.open((await signed.createLink('canary')).url));
    const { call, open, visit } = setup({ OVERRIDE_SECRET: '' });
    const created = await call('POST', '/override-link', { cohort: 'canary' });
    expect(created.status).toBe(503);
    expect(created.body.error).toMatch(/^override links disabled/);
    expect(
      (await open(`https://app.example.com/__rollout/override?token=${cookie.split('=')[1]}`)).status,
    ).toBe(503);
    expect(await visit(cookie)).toBe('stable');
  });
});

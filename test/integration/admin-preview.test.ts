import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { COCKPIT_CSP } from '../../worker/control/admin/cockpit';
import { testApp } from '../support/in-workerd/test-app';

type App = ReturnType<typeof testApp>;

// A fresh control plane imports what KV holds: each test starts from an empty namespace.
beforeEach(async () => {
  const kv = (env as unknown as ControlEnv).ROLLOUT;
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

async function call(
  app: App,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await app.request(`/__rollout${path}`, {
    method,
    headers: { authorization: `Bearer ${app.env.ADMIN_TOKEN}`, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

// Rows as the Analytics Engine SQL API returns them (FORMAT JSON; 64-bit counts as strings).
function fakeSqlApi(stable: number, canary: number) {
  const row = (cohort: string, requests: number) => ({
    cohort,
    requests: String(requests),
    errors: '0',
    p95Ms: 120,
    emailDelivered: '0',
    emailFailed: '0',
    uploadsOk: '0',
    uploadsFailed: '0',
    // The rows as stored (unweighted), which the guard's exact tests read.
    storedRequests: String(requests),
    storedErrors: '0',
    storedSlow: '0',
    storedEmailDelivered: '0',
    storedEmailFailed: '0',
    storedUploadsOk: '0',
    storedUploadsFailed: '0',
  });
  const data = [row('stable', stable), row('canary', canary)];
  let queries = 0;
  return {
    queries: () => queries,
    fetch: async (input: string, init: RequestInit) => {
      if (!input.includes('/analytics_engine/sql')) return new Response('unexpected', { status: 500 });
      // The per-cohort totals query; the guard's other queries (per minute, per route) get no rows.
      const totals = String(init.body).includes('AS p95Ms');
      if (totals) queries++;
      return Response.json({ meta: [], data: totals ? data : [], rows: totals ? data.length : 0 });
    },
  };
}

describe('POST /__rollout/preview', () => {
  it('answers what a ramp would move, exactly, and changes nothing', async () => {
    const app = testApp();
    const answer = await call(app, 'POST', '/preview', { percent: 10 });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ currentVersion: 0, version: 1, changed: true, kill: null });
    expect(answer.body.config.rollout).toMatchObject({ percent: 10, state: 'ramping' });
    expect(answer.body.preview.moves).toEqual([
      { subject: 'cohort', from: 'stable', to: 'canary', share: 0.1, exact: true, error: 0, margin95: 0 },
    ]);
    expect(answer.body.preview.summary[0]).toBe('10 % of visitors move from stable to canary (exact).');
    expect(answer.body.preview.summary[1]).toMatch(/^No request figures: CF_ACCOUNT_ID and CF_API_TOKEN/);
    const state = await call(app, 'GET', '/state');
    expect(state.body).toMatchObject({ version: 0, percent: 0, state: 'idle' });
    expect((await call(app, 'GET', '/audit')).body.entries).toEqual([]);
  });

  it('previews transitions, flags, kills and a new salt through the same rules as the writes', async () => {
    const app = testApp();
    expect((await call(app, 'PUT', '/percent', { percent: 50 })).status).toBe(200);
    const abort = await call(app, 'POST', '/preview', { transition: 'abort' });
    expect(abort.body.preview.moves).toEqual([
      { subject: 'cohort', from: 'canary', to: 'stable', share: 0.5, exact: true, error: 0, margin95: 0 },
    ]);
    const resume = await call(app, 'POST', '/preview', { transition: 'resume' });
    expect(resume).toMatchObject({ status: 409, body: { error: expect.stringContaining('cannot resume') } });
    const kill = await call(app, 'POST', '/preview', { kill: { canary: true } });
    expect(kill.body).toMatchObject({ kill: 'canary', preview: { canaryShare: { before: 0.5, after: 0 } } });
    const flag = await call(app, 'POST', '/preview', { flag: 'templates', enabled: true, percent: 30 });
    expect(flag.body.preview.moves).toEqual([
      { subject: 'templates', from: 'off', to: 'on', share: 0.3, exact: true, error: 0, margin95: 0 },
    ]);
    const salt = await call(app, 'POST', '/preview', { salt: 'launch-2' });
    expect(salt.body.preview.moves.map((m: any) => [m.from, m.to, m.exact])).toEqual([
      ['stable', 'canary', false],
      ['canary', 'stable', false],
    ]);
    const reshuffled = salt.body.preview.moves[0].share + salt.body.preview.moves[1].share;
    expect(Math.abs(reshuffled - 0.5)).toBeLessThan(salt.body.preview.moves[0].error * 4);
    expect((await call(app, 'GET', '/state')).body.version).toBe(1);
  });

  it('honours If-Match: a preview of a version that is no longer current is a 412', async () => {
    const app = testApp();
    const before = (await call(app, 'GET', '/state')).body.version;
    const written = (await call(app, 'PUT', '/percent', { percent: 5 })).body.version;
    const stale = await call(app, 'POST', '/preview', { percent: 10 }, { 'if-match': `"${before}"` });
    expect(stale.status).toBe(412);
    const current = await call(app, 'POST', '/preview', { percent: 10 }, { 'if-match': `"${written}"` });
    expect(current.status).toBe(200);
    expect(current.headers.get('etag')).toBe(`"${written}"`);
  });

  it('refuses bodies that are not one change, with the issues', async () => {
    const app = testApp();
    for (const body of [{ percent: 150 }, { nonsense: 1 }, { percent: 10, salt: 'x' }, { kill: {} }, {}]) {
      const answer = await call(app, 'POST', '/preview', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.issues?.length, JSON.stringify(body)).toBeGreaterThan(0);
    }
    expect((await call(app, 'GET', '/state')).body.version).toBe(0);
  });

  it('turns shares into requests of the last hour when the SQL API is configured, reading it once a minute', async () => {
    const sql = fakeSqlApi(9000, 1000);
    const app = testApp({
      vars: { CF_ACCOUNT_ID: '0123456789abcdef0123456789abcdef', CF_API_TOKEN: 'sql-token' },
      deps: { fetch: sql.fetch },
    });
    await call(app, 'PUT', '/percent', { percent: 10 });
    const answer = await call(app, 'POST', '/preview', { percent: 40 });
    expect(answer.body.preview.traffic).toEqual({ windowMinutes: 60, stable: 9000, canary: 1000 });
    // 30 % of visitors leave stable (90 % of visitors): a third of stable's requests.
    expect(answer.body.preview.moves[0]).toMatchObject({ share: 0.3, exact: true, requests: 3000 });
    await call(app, 'POST', '/preview', { percent: 20 });
    expect(sql.queries()).toBe(1);
    app.clock.advance(61_000);
    await call(app, 'POST', '/preview', { percent: 20 });
    expect(sql.queries()).toBe(2);
  });
});

describe('GET /__rollout/session', () => {
  it('says who is signed in, where this browser’s own page is, and how to configure the guard; never a visitor’s cohort', async () => {
    const app = testApp();
    await call(app, 'PUT', '/percent', { percent: 100 });
    const withCookie = await call(app, 'GET', '/session', undefined, { cookie: 'rollout_id=visitor-0001' });
    expect(withCookie.body).toMatchObject({
      actor: 'admin',
      mePath: '/__rollout/me',
      visitorCookie: 'rollout_id',
      guard: { configured: false, how: expect.stringContaining('CF_ACCOUNT_ID and CF_API_TOKEN') },
    });
    // The cockpit's origin never gets the app's cookie: the edge's /me page answers for a browser.
    expect(withCookie.body).not.toHaveProperty('visitor');
    expect((await app.request('/__rollout/session')).status).toBe(401);
  });
});

describe('GET /__rollout/ (the cockpit page)', () => {
  it('serves the page, its script and style from the assets with a strict CSP and no credentials', async () => {
    const app = testApp();
    const onCockpit = (path: string, init?: RequestInit) =>
      app.request(`https://cockpit.localhost${path}`, init);
    const page = await onCockpit('/__rollout/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(COCKPIT_CSP);
    expect(await page.text()).toContain('<script type="module" src="cockpit.js"></script>');
    const script = await onCockpit('/__rollout/cockpit.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain("from './cockpit-dom.js'");
    const shared = await onCockpit('/__rollout/cockpit-dom.js');
    expect(await shared.text()).toContain('sessionStorage.getItem(TOKEN_KEY)');
    expect(shared.headers.get('content-security-policy')).toBe(COCKPIT_CSP);
    expect((await onCockpit('/__rollout/cockpit.css')).status).toBe(200);
    const bare = await onCockpit('/__rollout', { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/__rollout/');
    expect((await onCockpit('/__rollout/openapi.json')).status).toBe(401);
    expect((await onCockpit('/__rollout/index.html')).status).toBe(404);
  });

  it('never serves the page on the app host: it redirects there to the cockpit origin', async () => {
    const app = testApp();
    const page = await app.request('/__rollout/', { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('https://cockpit.localhost/__rollout/');
    expect((await app.request('/__rollout/cockpit.js')).status).toBe(404);
    expect((await app.request('/__rollout/cockpit.css')).status).toBe(404);
  });
});

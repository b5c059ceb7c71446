import { setCookies } from '../support/core-fixtures';
import { describe, expect, it } from 'vitest';
import { bucket } from '../../src/split/bucket';
import type { EchoBody } from '../support/loopback/echo-origin';
import { configAt, putConfig, testApp } from '../support/in-workerd/test-app';

async function appAt(percent: number, extra: Record<string, unknown> = {}) {
  const app = testApp();
  await putConfig(app.kv, configAt(percent, extra));
  return app;
}

describe('proxy', () => {
  it('forwards method, path, query, headers and a streamed body, and answers from the chosen origin', async () => {
    const { request } = await appAt(100);
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(1024).fill(i));
        controller.close();
      },
    });
    const response = await request('/api/invoices?draft=1&x=%20y', {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'x-app': 'kept',
        'cf-connecting-ip': '198.51.100.4',
      },
      // @ts-expect-error duplex is required for a streamed body in some runtimes
      duplex: 'half',
    });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as EchoBody;
    expect(echo).toMatchObject({
      origin: 'canary',
      method: 'POST',
      path: '/api/invoices',
      query: '?draft=1&x=%20y',
      bodyBytes: 65_536,
    });
    expect(echo.headers['x-app']).toBe('kept');
    expect(echo.headers['x-rollout-cohort']).toBe('canary');
    expect(echo.headers['x-forwarded-for']).toBe('198.51.100.4');
    expect(echo.headers['x-forwarded-host']).toBe('app.example.com');
    expect(echo.headers['x-forwarded-proto']).toBe('https');
  });

  it('never forwards client-sent rollout or flag headers', async () => {
    const { request } = await appAt(0);
    const response = await request('/', {
      headers: { 'x-rollout-cohort': 'canary', 'x-rollout-debug': '1', 'x-feature-flags': '{"admin":true}' },
    });
    const echo = (await response.json()) as EchoBody;
    expect(echo.origin).toBe('stable');
    expect(echo.headers['x-rollout-cohort']).toBe('stable');
    expect(echo.headers['x-rollout-debug']).toBeUndefined();
    expect(JSON.parse(echo.headers['x-feature-flags'] as string)).not.toHaveProperty('admin');
  });

  it('keeps a visitor in one cohort across requests through its cookie', async () => {
    const { request } = await appAt(50);
    const seen = new Map<string, string>();
    for (let v = 0; v < 40; v++) {
      const first = await request('/');
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      const cohort = first.headers.get('x-rollout-cohort')!;
      for (let i = 0; i < 3; i++) {
        const again = await request(`/asset-${i}.js`, { headers: { cookie } });
        expect(again.headers.get('x-rollout-cohort')).toBe(cohort);
        expect(again.headers.get('set-cookie')).toBeNull();
      }
      seen.set(cookie, cohort);
    }
    expect(new Set(seen.values())).toEqual(new Set(['stable', 'canary']));
  });

  it.each([
    ['too long', `rollout_id=${'a'.repeat(65)}`],
    ['wrong characters', 'rollout_id=<script>alert(1)</script>'],
    ['empty', 'rollout_id='],
    ['control characters', 'rollout_id=abc\tdefgh'],
    ['an oversized id', `x=${'y'.repeat(20_000)}; rollout_id=${'a'.repeat(20_000)}`],
  ])('replaces a hostile rollout_id cookie (%s) with a fresh id, never a 5xx', async (_name, cookie) => {
    const { request } = await appAt(50);
    const response = await request('/', { headers: { cookie } });
    // The origin may refuse an oversized header (431); the splitter itself never fails.
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('set-cookie')).toMatch(/^rollout_id=[A-Za-z0-9_-]{22}; /);
  });

  it('lets the identity header decide over the cookie when both are present', async () => {
    const { request } = await appAt(50, { stickiness: { identityHeader: 'x-user-id' } });
    const cookie = 'rollout_id=visitor-0001';
    const cookieCohort = bucket('launch-1', 'visitor-0001') < 5000 ? 'canary' : 'stable';
    // A user whose own bucket puts them in the other cohort than the cookie's id would.
    let user = 0;
    while ((bucket('launch-1', `user-${user}`) < 5000 ? 'canary' : 'stable') === cookieCohort) user++;
    const response = await request('/', { headers: { cookie, 'x-user-id': `user-${user}` } });
    expect(response.headers.get('x-rollout-cohort')).not.toBe(cookieCohort);
    expect((await request('/', { headers: { cookie } })).headers.get('x-rollout-cohort')).toBe(cookieCohort);
  });

  it('routes by the identity header when configured, the same on every device', async () => {
    const { request } = await appAt(50, { stickiness: { identityHeader: 'x-user-id' } });
    for (let user = 0; user < 20; user++) {
      const cohorts = new Set<string>();
      for (let device = 0; device < 3; device++) {
        const response = await request('/', { headers: { 'x-user-id': `user-${user}` } });
        cohorts.add(response.headers.get('x-rollout-cohort')!);
      }
      expect(cohorts.size).toBe(1);
    }
  });

  it('keeps status, manual redirects (rewritten to the public host) and every Set-Cookie', async () => {
    const { request } = await appAt(0);
    const redirect = await request('/redirect');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://app.example.com/landing?from=stable');
    const cookies = await request('/cookies');
    expect(setCookies(cookies.headers)).toEqual([
      'a=1; Path=/',
      'b=2; Path=/; HttpOnly',
      expect.stringMatching(/^rollout_id=/),
    ]);
    expect((await request('/status/418')).status).toBe(418);
  });

  it('answers HEAD without a body', async () => {
    const { request } = await appAt(0);
    const response = await request('/', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('drops hop-by-hop headers named by the origin', async () => {
    const { request } = await appAt(0);
    const response = await request('/');
    expect(response.headers.get('x-origin-private')).toBeNull();
    expect(response.headers.get('connection')).toBeNull();
  });

  it('downgrades shared caching so a CDN never serves one cohort to the other', async () => {
    const { request } = await appAt(0);
    expect((await request('/cache')).headers.get('cache-control')).toBe('private, max-age=600');
  });
});

describe('failover', () => {
  const fast = { failover: { statuses: [502, 503, 504], timeoutMs: 300 } };

  it.each([
    ['a configured 5xx', '/status/503'],
    ['a connection reset', '/reset'],
    ['a hang past the timeout', '/hang'],
  ])('replays a GET whose canary attempt failed (%s) on stable', async (_name, path) => {
    const { request, metrics } = await appAt(100, fast);
    const response = await request(path);
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
    if (path === '/status/503') expect(response.status).toBe(503); // stable's own answer to the same path
    expect(metrics.metrics.at(-1)).toMatchObject({
      cohort: 'stable',
      assignedCohort: 'canary',
      failover: true,
      outcome: 'failover',
    });
  });

  it('never cuts off a body that streams past the header deadline, through the flags bootstrap too', async () => {
    const { request } = await appAt(100, { ...fast, bootstrapFlags: true });
    const response = await request('/slow-html');
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('window.__FLAGS__');
    expect(page).toContain('<p>three</p><p>end</p></body></html>');
  });

  it('keeps a page with injected flags from being revalidated into an old copy', async () => {
    const { request } = await appAt(100, { bootstrapFlags: true });
    const response = await request('/html');
    expect(await response.text()).toContain('window.__FLAGS__');
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('last-modified')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
  });

  it('replays HEAD too', async () => {
    const { request } = await appAt(100, fast);
    const response = await request('/reset', { method: 'HEAD' });
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
  });

  it('does not replay a status that is not configured', async () => {
    const { request } = await appAt(100, fast);
    const response = await request('/status/500');
    expect(response.status).toBe(500);
    expect(response.headers.get('x-rollout-cohort')).toBe('canary');
  });

  it('never replays a POST: a clear 502 names the cohort, and the upstream only in the logs', async () => {
    const { request, metrics, logger } = await appAt(100, fast);
    const response = await request('/reset', { method: 'POST', body: 'invoice' });
    expect(response.status).toBe(502);
    expect(response.headers.get('x-rollout-cohort')).toBe('canary');
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: 'upstream unavailable', cohort: 'canary' });
    expect(text).not.toContain('127.0.0.1');
    const logged = logger.lines.find((l) => l.message === 'upstream failed');
    expect(logged?.fields?.upstream).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(metrics.metrics.at(-1)).toMatchObject({
      cohort: 'canary',
      failover: false,
      outcome: 'error',
      status: 502,
    });
  });

  it('answers 504 for a POST whose canary hangs past the timeout, without replaying it', async () => {
    const { request } = await appAt(100, fast);
    const response = await request('/hang', { method: 'POST', body: 'x' });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: string }).error).toBe('upstream timeout');
  });

  it('passes a canary 503 on a POST through as the origin sent it', async () => {
    const { request } = await appAt(100, fast);
    const response = await request('/status/503', { method: 'POST', body: 'x' });
    expect(response.status).toBe(503);
    expect(response.headers.get('x-rollout-cohort')).toBe('canary');
  });
});

import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { PlaneDeps as AppDeps } from '../support/in-workerd/test-app';
import type { EchoBody } from '../support/loopback/echo-origin';
import { configAt, putConfig, testApp, testVars } from '../support/in-workerd/test-app';

/** An app whose origins are a stub: every request gets `respond()`, and is counted. */
function stubbedApp(
  respond: () => Response,
  options: { vars?: Record<string, string>; deps?: Partial<AppDeps> } = {},
) {
  const calls: string[] = [];
  const app = testApp({
    vars: options.vars,
    deps: {
      fetch: async (input) => {
        calls.push(input);
        return respond();
      },
      ...options.deps,
    },
  });
  return { ...app, calls };
}

const VISITOR = 'rollout_id=visitor-0001';
const CDN_HEADERS = {
  'cdn-cache-control': 'max-age=600',
  'cloudflare-cdn-cache-control': 'max-age=600',
  'surrogate-control': 'max-age=600',
};

describe('headers a CGI-style origin reads as ours', () => {
  it('never lets an underscore spelling of a rollout, flag or forwarding header reach the origin', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(0));
    const response = await request('/', {
      headers: {
        'X-Rollout_Cohort': 'canary',
        X_Feature_Flags: '{"admin":true}',
        X_Forwarded_For: '6.6.6.6',
        'cf-connecting-ip': '198.51.100.4',
      },
    });
    const echo = (await response.json()) as EchoBody;
    const spoofed = Object.entries(echo.headers).filter(([, value]) =>
      /canary|admin|6\.6\.6\.6/.test(String(value)),
    );
    expect(spoofed).toEqual([]);
    expect(echo.headers['x-forwarded-for']).toBe('198.51.100.4');
  });
});

describe('shared caches', () => {
  it('never get a page they could store: max-age, CDN headers and Expires are made private', async () => {
    const { request } = stubbedApp(
      () =>
        new Response('<p>canary page</p>', {
          headers: {
            'cache-control': 'max-age=600',
            expires: 'Wed, 25 Nov 2026 12:10:00 GMT',
            date: 'Wed, 25 Nov 2026 12:00:00 GMT',
            ...CDN_HEADERS,
          },
        }),
    );
    const response = await request('/', { headers: { cookie: VISITOR } });
    expect(response.headers.get('cache-control')).toBe('private, max-age=600');
    for (const name of [...Object.keys(CDN_HEADERS), 'expires'])
      expect(response.headers.get(name)).toBeNull();
  });

  it('never store a fresh visitor cookie, even on a path shared by both cohorts', async () => {
    const { request } = stubbedApp(
      () => new Response('x', { headers: { 'cache-control': 'max-age=600', ...CDN_HEADERS } }),
      {
        vars: { SHARED_CACHE_PATHS: '/assets/' },
      },
    );
    const response = await request('/assets/app.3f9a.js');
    expect(response.headers.get('set-cookie')).toContain('rollout_id=');
    expect(response.headers.get('cache-control')).toBe('private, max-age=600');
    expect(response.headers.get('cdn-cache-control')).toBeNull();
  });

  it('may store a response on a shared path as the origin said', async () => {
    const { request } = stubbedApp(
      () =>
        new Response('x', {
          headers: { 'cache-control': 'public, max-age=31536000, immutable', ...CDN_HEADERS },
        }),
      { vars: { SHARED_CACHE_PATHS: '/assets/, /favicon.ico' } },
    );
    const asset = await request('/assets/app.3f9a.js', { headers: { cookie: VISITOR } });
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('cdn-cache-control')).toBe('max-age=600');
    const page = await request('/assets.html', { headers: { cookie: VISITOR } });
    expect(page.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
  });

  it('keep out a page the flags were injected into', async () => {
    const { request, kv } = stubbedApp(
      () =>
        new Response('<html><head></head></html>', {
          headers: { 'content-type': 'text/html', 'cache-control': 'max-age=60' },
        }),
      { vars: { SHARED_CACHE_PATHS: '/' } },
    );
    await putConfig(kv, configAt(0, { bootstrapFlags: true }));
    const response = await request('/', { headers: { cookie: VISITOR } });
    expect(await response.text()).toContain('window.__FLAGS__');
    // Private, and fetched again rather than revalidated: the flags in it are this visitor's now.
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
  });
});

describe('Expect: 100-continue', () => {
  it('uploads through to the origin instead of failing on its interim 100', async () => {
    const { request, kv, logger } = testApp();
    await putConfig(kv, configAt(0));
    const response = await request('/api/files', {
      method: 'POST',
      headers: { expect: '100-continue', 'content-type': 'application/octet-stream' },
      body: 'x'.repeat(2048),
    });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as EchoBody;
    expect(echo).toMatchObject({ origin: 'stable', method: 'POST', bodyBytes: 2048 });
    expect(echo.headers.expect).toBeUndefined();
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('never builds a visitor response from an interim 1xx: it is an upstream failure', async () => {
    const interim = { status: 100, headers: new Headers(), body: null } as unknown as Response;
    const { request } = stubbedApp(() => interim);
    const response = await request('/api/files', { method: 'POST', body: 'x', headers: { cookie: VISITOR } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: 'upstream unavailable' });
  });
});

describe('business-route classification', () => {
  it('is recorded after the response is handed back, off its critical path', async () => {
    const { app, env, metrics, kv } = testApp();
    await putConfig(
      kv,
      configAt(0, { routes: [{ name: 'doc_edit', method: 'GET', pattern: '/docs/*/edit' }] }),
    );
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request('https://app.example.com/docs/a/edit'), env, ctx);
    expect(response.status).toBe(200);
    expect(metrics.metrics).toEqual([]);
    await waitOnExecutionContext(ctx);
    expect(metrics.metrics).toMatchObject([{ route: 'doc_edit', status: 200 }]);
  });
});

describe('a defect in the splitter', () => {
  const defect = {
    readOverride: async () => {
      throw new Error('simulated defect');
    },
  };

  it('fails open through the same header policy as every response', async () => {
    const stableOrigin = testVars().STABLE_ORIGIN;
    const { request } = stubbedApp(
      () =>
        new Response('{}', {
          status: 302,
          headers: {
            location: `${stableOrigin}/login`,
            'cache-control': 'public, max-age=600',
            'x-feature-flags': '{"admin":true}',
            connection: 'x-origin-private',
            'x-origin-private': 'hop',
          },
        }),
      { deps: defect },
    );
    const response = await request('/account');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://app.example.com/login');
    expect(response.headers.get('cache-control')).toBe('private, max-age=600');
    expect(response.headers.get('x-feature-flags')).toBeNull();
    expect(response.headers.get('x-origin-private')).toBeNull();
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
  });

  it('records the request through the metrics sink as an error of its assigned cohort', async () => {
    const { request, metrics } = testApp({ deps: defect });
    const response = await request('/invoices');
    expect(response.status).toBe(200);
    expect(metrics.metrics).toMatchObject([
      { cohort: 'stable', assignedCohort: 'stable', outcome: 'error', status: 200, failover: false },
    ]);
  });

  it('records a POST it cannot replay too', async () => {
    // The origin had the request when our code failed on its answer: it is not sent again.
    const answerWeFailOn = {
      status: 200,
      body: null,
      get headers(): Headers {
        throw new Error('simulated defect');
      },
    } as unknown as Response;
    const { request, metrics } = testApp({ deps: { fetch: async () => answerWeFailOn } });
    expect((await request('/api/invoices', { method: 'POST', body: 'x' })).status).toBe(502);
    expect(metrics.metrics).toMatchObject([{ method: 'POST', outcome: 'error', status: 502 }]);
  });

  it('keeps the deadline on the origin', async () => {
    const { request, kv } = testApp({ deps: defect });
    await putConfig(kv, configAt(0, { failover: { statuses: [502, 503, 504], timeoutMs: 200 } }));
    const response = await request('/hang');
    expect(response.status).toBe(504);
  });
});

describe('a Cookie header above 16 KiB', () => {
  it('still finds the visitor id, so the visitor keeps its cohort and gets no new cookie', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(50));
    const padding = Array.from({ length: 400 }, (_, i) => `pref_${i}=${'v'.repeat(40)}`).join('; ');
    const cookie = `${padding}; rollout_id=visitor-0001`;
    expect(cookie.length).toBeGreaterThan(16_384);
    const cohorts = new Set<string | null>();
    for (let i = 0; i < 3; i++) {
      const response = await request('/', { headers: { cookie } });
      expect(response.headers.get('set-cookie')).toBeNull();
      cohorts.add(response.headers.get('x-rollout-cohort'));
    }
    expect(cohorts.size).toBe(1);
  });
});

describe('spellings of the admin prefix', () => {
  it.each([
    '//__rollout/state',
    '/__ROLLOUT/state',
    '/__Rollout',
    '/__rollout;x/state',
    '/__rollout%2fstate',
    '/__rollout%252fstate',
    '///__rollout//state',
  ])('%s is answered by the Worker (404), never proxied', async (path) => {
    const { request, calls } = stubbedApp(() => new Response('from the origin'));
    const response = await request(`https://app.example.com${path}`);
    expect(response.status).toBe(404);
    expect(calls).toEqual([]);
  });

  it.each(['/__rollout./state', '/__rollout%20/state', '/__rollout%00/state', '/__rollout%2e/state'])(
    '%s (a segment a lenient origin trims) goes to the control Worker, never to an origin',
    async (path) => {
      const { request, calls } = stubbedApp(() => new Response('from the origin'));
      const response = await request(path);
      expect([401, 404]).toContain(response.status);
      expect(await response.text()).not.toContain('from the origin');
      expect(calls).toEqual([]);
    },
  );

  it('routes percent-encoded letters of the prefix to the admin API itself (auth required), never proxied', async () => {
    const { request, calls } = stubbedApp(() => new Response('from the origin'));
    expect((await request('/%5F%5Frollout/state')).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('still proxies paths that merely contain the word', async () => {
    const { request, calls } = stubbedApp(() => new Response('from the origin'));
    for (const path of ['/blog/__rollout-notes', '/__rolloutx/state', '/docs/%5F_x']) {
      expect((await request(path)).status).toBe(200);
    }
    expect(calls).toHaveLength(3);
  });
});

describe('spellings of the OFREP mount', () => {
  it.each(['/OFREP/flags', '//ofrep/flags', '/ofrep%2fflags', '/ofrep;x/flags', '/Ofrep/v1/evaluate/flags'])(
    '%s is answered by the Worker (404), never proxied',
    async (path) => {
      const { request, calls } = stubbedApp(() => new Response('from the origin'));
      const init = path.includes('evaluate') ? { method: 'POST', body: '{}' } : {};
      const response = await request(`https://app.example.com${path}`, init);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'not found' });
      expect(calls).toEqual([]);
    },
  );

  it('still answers the mount itself as OFREP, and proxies paths that merely contain the word', async () => {
    const { request, calls } = stubbedApp(() => new Response('from the origin'));
    expect((await request('/ofrep/flags')).status).toBe(200);
    expect(calls).toEqual([]);
    for (const path of ['/ofrep-docs', '/blog/ofrep/flags']) expect((await request(path)).status).toBe(200);
    expect(calls).toHaveLength(2);
  });
});

describe('path parameters on shared-cache paths', () => {
  it.each([
    '/assets/..;/account',
    '/assets/..%3b/account',
    '/assets/..%3B/account',
    '/assets/x;jsessionid=1',
  ])('%s never keeps Cache-Control: public (Tomcat and Jetty read `..;` as `..`)', async (path) => {
    const { request } = stubbedApp(
      () => new Response('x', { headers: { 'cache-control': 'public, max-age=600', ...CDN_HEADERS } }),
      { vars: { SHARED_CACHE_PATHS: '/assets/' } },
    );
    const response = await request(path, { headers: { cookie: VISITOR } });
    expect(response.headers.get('cache-control')).toBe('private, max-age=600');
    expect(response.headers.get('cdn-cache-control')).toBeNull();
  });
});

describe('rollout headers on the way back', () => {
  it('never passes an origin’s own x-rollout-* headers to the client', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(100));
    const response = await request('/rollout-headers', { headers: { cookie: VISITOR } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rollout-internal')).toBeNull();
    expect(response.headers.get('x-rollout-cohort')).toBe('canary');
  });

  it('leaves the per-cohort x-rollout-cohort off an answer shared caches may store for everyone', async () => {
    const { request } = stubbedApp(
      () =>
        new Response('x', {
          headers: { 'cache-control': 'public, max-age=600', 'x-rollout-cohort': 'canary' },
        }),
      { vars: { SHARED_CACHE_PATHS: '/assets/' } },
    );
    const shared = await request('/assets/app.3f9a.js', { headers: { cookie: VISITOR } });
    expect(shared.headers.get('cache-control')).toBe('public, max-age=600');
    expect(shared.headers.get('x-rollout-cohort')).toBeNull();
    // A private answer still names the cohort.
    const page = await request('/account', { headers: { cookie: VISITOR } });
    expect(page.headers.get('x-rollout-cohort')).toMatch(/^(stable|canary)$/);
  });
});

describe('a defect after an origin had the request', () => {
  it('never sends a GET to the origins again: one origin request, a plain 502', async () => {
    const answerWeFailOn = {
      status: 200,
      body: null,
      get headers(): Headers {
        throw new Error('simulated defect');
      },
    } as unknown as Response;
    const { request, calls, metrics } = stubbedApp(() => answerWeFailOn);
    const response = await request('/invoices', { headers: { cookie: VISITOR } });
    expect(response.status).toBe(502);
    expect(calls).toHaveLength(1);
    expect(metrics.metrics).toMatchObject([{ method: 'GET', outcome: 'error', status: 502 }]);
  });
});

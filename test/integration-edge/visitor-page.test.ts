import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/edge/index';
import { VISITOR_PAGE_CSP } from '../../worker/edge/visitor-page';
import { testVars } from '../support/in-workerd/test-app';

// GET /__rollout/me: the edge answers it itself, from the splitter's decideVisitor, with no
// credential and without the control Worker (here: no CONTROL_PLANE binding at all).

function edgeEnv(overrides: Record<string, unknown> = {}): EdgeEnv {
  const { ADMIN_TOKEN: _token, ...edgeVars } = testVars();
  return { ...(env as unknown as EdgeEnv), ...edgeVars, ...overrides } as EdgeEnv;
}

async function call(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`https://app.example.com${path}`, { headers, method }) as Request<
    unknown,
    IncomingRequestCfProperties
  >;
  const response = await worker.fetch(request, edgeEnv({ CONTROL_PLANE: undefined }), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('GET /__rollout/me on the app host', () => {
  it('is answered by the edge even when the control Worker is not there', async () => {
    expect((await call('/__rollout/state')).status).toBe(503);
    const page = await call('/__rollout/me', { cookie: 'rollout_id=visitor-000001' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(VISITOR_PAGE_CSP);
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    const html = await page.text();
    expect(html).toMatch(
      /\(cookie rollout_id\) is in <strong id="cohort">stable<\/strong> \(bucket \d+, NOT_LIVE\)/,
    );
    expect(html).not.toMatch(/<script|<style| style=/);
  });

  it('shows the same cohort and flags as the splitter gives that cookie, as JSON too', async () => {
    const cookie = { cookie: 'rollout_id=visitor-000001' };
    const me = (await (await call('/__rollout/me.json', cookie)).json()) as {
      routing: { cohort: string; flags: Record<string, boolean> };
    };
    const proxied = await call('/', cookie);
    expect(proxied.headers.get('x-rollout-cohort')).toBe(me.routing.cohort);
    expect(Object.keys(me.routing.flags).sort()).toEqual([
      'analytics',
      'emailDelivery',
      'fileStorage',
      'templates',
    ]);
    const negotiated = await call('/__rollout/me', { ...cookie, accept: 'application/json' });
    expect(await negotiated.json()).toEqual(me);
  });

  it('says a browser without a cookie has none, and issues none', async () => {
    const page = await call('/__rollout/me.json');
    expect(await page.json()).toMatchObject({ source: 'cookie rollout_id', routing: null, override: null });
    expect(page.headers.get('set-cookie')).toBeNull();
    const hostile = await call('/__rollout/me', { cookie: 'rollout_id=<script>alert(1)</script>' });
    expect(await hostile.text()).not.toContain('<script>');
  });

  it('answers only GET and HEAD', async () => {
    expect((await call('/__rollout/me', {}, 'POST')).status).toBe(405);
    expect((await call('/__rollout/me', {}, 'HEAD')).status).toBe(200);
  });
});

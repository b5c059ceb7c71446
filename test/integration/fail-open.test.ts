import { describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { testApp } from '../support/in-workerd/test-app';

describe('a defect in the splitter itself', () => {
  it('fails open: the request is served by stable, logged, and the visitor sees no 5xx', async () => {
    const { request, logger } = testApp({
      deps: {
        readOverride: async () => {
          throw new Error('simulated defect');
        },
      },
    });
    const response = await request('/invoices?id=7', { headers: { 'x-rollout-cohort': 'canary' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
    const echo = (await response.json()) as EchoBody;
    expect(echo).toMatchObject({ origin: 'stable', path: '/invoices', query: '?id=7' });
    expect(echo.headers['x-rollout-cohort']).toBe('stable');
    expect(logger.lines.some((l) => l.message === 'splitter failed; serving stable directly')).toBe(true);
  });

  it('never replays a POST: the canary may already have acted on it', async () => {
    const { request } = testApp({
      deps: {
        readOverride: async () => {
          throw new Error('simulated defect');
        },
      },
    });
    const response = await request('/api/invoices', { method: 'POST', body: 'x' });
    expect(response.status).toBe(502);
  });

  it('answers a plain 502 without internals when even stable cannot be reached', async () => {
    const { request } = testApp({
      vars: { STABLE_ORIGIN: 'http://127.0.0.1:9' },
      deps: {
        readOverride: async () => {
          throw new Error('secret internal detail');
        },
      },
    });
    const response = await request('/');
    expect(response.status).toBe(502);
    expect(await response.text()).not.toContain('secret internal detail');
  });
});

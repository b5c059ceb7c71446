import { describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { configAt, putConfig, testApp } from '../support/in-workerd/test-app';

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

  it('sends a POST to stable, body intact, when the defect struck before any origin saw it', async () => {
    const { request } = testApp({
      deps: {
        readOverride: async () => {
          throw new Error('simulated defect');
        },
      },
    });
    const response = await request('/api/invoices', { method: 'POST', body: 'invoice-7' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ origin: 'stable', method: 'POST', bodyBytes: 9 });
  });

  it('never sends a POST again once an origin had it: the canary may already have acted on it', async () => {
    const sent: string[] = [];
    const { request } = testApp({
      deps: {
        fetch: async (input) => {
          sent.push(input);
          // An answer our own code then fails on: a defect after the request was sent.
          return {
            status: 200,
            body: null,
            get headers(): Headers {
              throw new Error('simulated defect');
            },
          } as unknown as Response;
        },
      },
    });
    const response = await request('/api/invoices', { method: 'POST', body: 'x' });
    expect(response.status).toBe(502);
    expect(sent).toHaveLength(1);
  });

  it('sends every flag at its declared default, killed flags off, never an empty flag set', async () => {
    const { request, kv } = testApp({
      deps: {
        readOverride: async () => {
          throw new Error('simulated defect');
        },
      },
    });
    await putConfig(
      kv,
      configAt(50, {
        flags: {
          darkMode: { enabled: true, percent: 50, default: true },
          beta: { enabled: true, percent: 100 },
          legacy: { enabled: false, default: true },
        },
      }),
    );
    await kv.put('kill', 'flag:legacy');
    const echo = (await (await request('/dashboard')).json()) as EchoBody;
    expect(JSON.parse(String(echo.headers['x-feature-flags']))).toEqual({
      darkMode: true,
      beta: false,
      legacy: false,
    });
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

import { describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/echo-origin';
import { configAt, putConfig, testApp } from '../support/test-app';

describe('splitter through the Worker', () => {
  it('serves everyone from stable with the declared default flags when KV is empty', async () => {
    const { request } = testApp();
    const response = await request('/hello?x=1');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
    const body = (await response.json()) as EchoBody;
    expect(body.origin).toBe('stable');
    expect(body.path).toBe('/hello');
    expect(body.query).toBe('?x=1');
    expect(JSON.parse(body.headers['x-feature-flags'] as string)).toEqual({
      fileStorage: false,
      templates: false,
      emailDelivery: false,
      analytics: true,
    });
  });

  it('routes a 100 % config to the canary', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(100));
    const response = await request('/');
    expect(response.headers.get('x-rollout-cohort')).toBe('canary');
    expect(((await response.json()) as EchoBody).origin).toBe('canary');
  });
});

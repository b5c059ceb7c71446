import { describe, expect, it } from 'vitest';
import { configAt, putConfig, testApp } from '../support/in-workerd/test-app';

const body = JSON.stringify({
  events: [{ type: 'email_delivery', cohort: 'canary', success: false, count: 3 }],
});

describe('POST /__rollout/events', () => {
  it('refuses events without admin credentials and records nothing', async () => {
    const { request, metrics } = testApp();
    const response = await request('/__rollout/events', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(401);
    expect(metrics.metrics).toHaveLength(0);
  });

  it('records authenticated events per cohort through the metrics sink', async () => {
    const { request, metrics, kv } = testApp();
    await putConfig(kv, configAt(10));
    const response = await request('/__rollout/events', {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer test-admin-token-0123456789abcdef',
      },
    });
    expect(response.status).toBe(202);
    expect(metrics.metrics).toEqual([
      expect.objectContaining({
        cohort: 'canary',
        method: 'EVENT',
        route: 'email_delivery',
        routeSuccess: false,
        occurrences: 3,
      }),
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';

describe('the documented local run (wrangler dev with --var origins)', () => {
  const world = localWorkerBehindEchoOrigins({
    ADMIN_TOKEN: 'local-run-token-0123456789abcdef',
  });

  it('serves the splitter with no config in KV: 0 % canary, a visitor cookie issued', async () => {
    const cohorts = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${world.worker.url}/page/${i}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { origin: string };
      cohorts.add(body.origin);
      expect(response.headers.get('x-rollout-cohort')).toBe('stable');
      expect(response.headers.get('set-cookie')).toMatch(
        /^rollout_id=[A-Za-z0-9_-]{22}; Path=\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax$/,
      );
    }
    expect([...cohorts]).toEqual(['stable']);
  });
});

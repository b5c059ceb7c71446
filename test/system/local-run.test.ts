import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoOrigin } from '../support/echo-origin';
import { startLocalWorker, type LocalWorker } from '../support/local-worker';

describe('the documented local run (wrangler dev with --var origins)', () => {
  let worker: LocalWorker;
  let origins: Awaited<ReturnType<typeof startEchoOrigin>>[];

  beforeAll(async () => {
    origins = [await startEchoOrigin('stable'), await startEchoOrigin('canary')];
    worker = await startLocalWorker({
      STABLE_ORIGIN: `http://127.0.0.1:${origins[0]!.port}`,
      CANARY_ORIGIN: `http://127.0.0.1:${origins[1]!.port}`,
      ADMIN_TOKEN: 'local-run-token-0123456789',
    });
  }, 90_000);

  afterAll(async () => {
    await worker?.stop();
    await Promise.all((origins ?? []).map((o) => o.close()));
  });

  it('serves the splitter with no config in KV: 0 % canary, a visitor cookie issued', async () => {
    const cohorts = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${worker.url}/page/${i}`);
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

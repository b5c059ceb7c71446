import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { testApp } from '../support/in-workerd/test-app';

// GET /__rollout/series: the cockpit's charts, read from the Analytics Engine SQL API (a fake
// here, answering in its wire format) through the guard's client and query builders.

beforeEach(async () => {
  const kv = (env as unknown as ControlEnv).ROLLOUT;
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

const SQL_VARS = { CF_ACCOUNT_ID: '0123456789abcdef0123456789abcdef', CF_API_TOKEN: 'sql-token' };

/** A fake SQL API: per-minute cohort rows for the cockpit's query, version rows for the traffic split. */
function fakeSqlApi(nowMs: () => number) {
  const seen: string[] = [];
  const fetch = async (_url: string, init: RequestInit) => {
    const sql = String(init.body);
    seen.push(sql);
    const minute = Math.floor(nowMs() / 60_000) * 60;
    const data = sql.includes('configVersion')
      ? [
          {
            minute,
            configVersion: '1',
            workerVersion: 'w',
            cohort: 'canary',
            requests: '40',
            failovers: '0',
            storedRequests: '40',
          },
        ]
      : [
          {
            minute: String(minute),
            cohort: 'canary',
            requests: '40',
            errors: '4',
            p95Ms: 300,
            emailDelivered: '0',
            emailFailed: '0',
            uploadsOk: '0',
            uploadsFailed: '0',
          },
          {
            minute: String(minute),
            cohort: 'stable',
            requests: '360',
            errors: '0',
            p95Ms: 100,
            emailDelivered: '0',
            emailFailed: '0',
            uploadsOk: '0',
            uploadsFailed: '0',
          },
        ];
    return Response.json({ meta: [], data, rows: data.length });
  };
  return { fetch, seen };
}

describe('GET /__rollout/series', () => {
  it('needs credentials, and says why there are no charts when the guard cannot read the SQL API', async () => {
    const app = testApp();
    expect((await app.request('/__rollout/series')).status).toBe(401);
    const answer = await app.admin('GET', '/series?minutes=30');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      available: false,
      reason: expect.stringMatching(/^guard not configured: CF_ACCOUNT_ID and CF_API_TOKEN/),
    });
  });

  it('refuses a window outside 5–180 minutes', async () => {
    const app = testApp({ vars: SQL_VARS });
    for (const minutes of ['0', '181', 'ten', '-5'])
      expect((await app.admin('GET', `/series?minutes=${minutes}`)).status, minutes).toBe(400);
  });

  it('charts the rows per minute, with the thresholds and the audit marks, from two queries kept 15 s for every viewer', async () => {
    let now = () => 0;
    const sql = fakeSqlApi(() => now());
    const live = testApp({ vars: SQL_VARS, deps: { fetch: sql.fetch } });
    now = () => live.clock.now();
    await live.admin('PUT', '/percent', { percent: 10 });
    const first = await live.admin('GET', '/series?minutes=45');
    expect(first.status).toBe(200);
    expect(first.body.minutes).toHaveLength(45);
    const errors = first.body.panels.find((panel: { id: string }) => panel.id === 'errorRate');
    expect(errors.lines.canary[44]).toBe(10);
    expect(errors.lines.stable[44]).toBe(0);
    expect(errors.samples.stable[44]).toBe(360);
    expect(errors.threshold).toMatchObject({ value: 1, failsWhen: 'above' });
    expect(first.body.panels.map((panel: { id: string }) => panel.id)).toEqual([
      'errorRate',
      'p95',
      'requestShare',
      'emailDelivery',
      'uploadFailure',
      'versions',
    ]);
    expect(sql.seen).toHaveLength(2);
    expect(sql.seen.every((text) => text.includes('_sample_interval'))).toBe(true);

    // Another viewer within 15 s reads the same answer; a write, or 15 s, reads afresh.
    await live.admin('GET', '/series?minutes=45');
    expect(sql.seen).toHaveLength(2);
    await live.admin('POST', '/abort', { reason: 'test' });
    const afterAbort = await live.admin('GET', '/series?minutes=45');
    expect(sql.seen).toHaveLength(4);
    expect(afterAbort.body.marks.map((mark: { action: string }) => mark.action)).toEqual([
      'set-percent',
      'abort',
    ]);
    live.clock.advance(15_000);
    await live.admin('GET', '/series?minutes=45');
    expect(sql.seen).toHaveLength(6);
  });
});

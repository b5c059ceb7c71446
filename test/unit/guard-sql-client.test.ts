import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsSqlClient, readWindowStats } from '../../src/guard/analytics-sql';
import { cohortStatsQuery, routeOutcomesQuery, trafficSplitQuery } from '../../src/metrics/queries';
import { startFakeSqlApi } from '../support/fake-sql-api/server';
import {
  cohortStatsAnswer,
  fakeSqlApi,
  newAccountId,
  trafficSplitAnswer,
} from '../support/fake-sql-api/control';

let fake: Awaited<ReturnType<typeof startFakeSqlApi>>;
let api: ReturnType<typeof fakeSqlApi>;
const token = 'sql-read-token';

beforeAll(async () => {
  fake = await startFakeSqlApi();
  api = fakeSqlApi(`http://127.0.0.1:${fake.port}`);
});
afterAll(() => fake.close());

function client(account: string, timeoutMs?: number) {
  return createAnalyticsSqlClient({
    baseUrl: `${api.baseUrl}/`,
    accountId: account,
    apiToken: token,
    fetch: (input, init) => fetch(input, init),
    timeoutMs,
  });
}

describe('Analytics Engine SQL API client', () => {
  it('POSTs the SQL as the body to the account endpoint with the bearer token', async () => {
    const account = newAccountId();
    await api.script(account, token, [
      { answer: { json: { meta: [], data: [{ message: 'hi' }], rows: 1 } } },
    ]);
    const result = await client(account).query("SELECT 'hi' AS message FORMAT JSON");
    expect(result).toEqual({ ok: true, rows: [{ message: 'hi' }] });
    const [request] = await api.requests(account);
    expect(request).toEqual({
      method: 'POST',
      authorization: `Bearer ${token}`,
      contentType: 'text/plain',
      sql: "SELECT 'hi' AS message FORMAT JSON",
    });
  });

  it('reports an HTTP error with its status and a snippet of the body, never the token', async () => {
    const account = newAccountId();
    await api.script(account, token, [
      { answer: { status: 500, body: 'internal error: storage unavailable' } },
    ]);
    const result = await client(account).query('SELECT 1');
    expect(result).toEqual({ ok: false, error: 'SQL API answered 500: internal error: storage unavailable' });
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('reports a refused token as an error', async () => {
    const account = newAccountId();
    await api.script(account, 'another-token', [{ answer: { json: {} } }]);
    const result = await client(account).query('SELECT 1');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/^SQL API answered 403: .*Authentication error/);
  });

  it('reports a non-JSON answer as an error', async () => {
    const account = newAccountId();
    await api.script(account, token, [{ answer: { body: '<html>bad gateway</html>' } }]);
    expect(await client(account).query('SELECT 1')).toEqual({
      ok: false,
      error: 'SQL API answered non-JSON: <html>bad gateway</html>',
    });
  });

  it('reports JSON of the wrong shape as an error naming the problem', async () => {
    const account = newAccountId();
    await api.script(account, token, [{ answer: { json: { data: 'nope' } } }]);
    const result = await client(account).query('SELECT 1');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/^SQL API answer has an unexpected shape: (meta|data)/);
  });

  it('gives up after its timeout', async () => {
    const account = newAccountId();
    await api.script(account, token, [{ answer: { hang: true } }]);
    const started = Date.now();
    const result = await client(account, 300).query('SELECT 1');
    expect(result).toEqual({ ok: false, error: 'SQL API did not answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports an unreachable API as an error', async () => {
    const unreachable = createAnalyticsSqlClient({
      baseUrl: 'http://127.0.0.1:1',
      accountId: newAccountId(),
      apiToken: token,
      fetch: (input, init) => fetch(input, init),
    });
    const result = await unreachable.query('SELECT 1');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/^SQL API unreachable/);
  });

  it('tries a query once more when the connection dropped, and only once', async () => {
    const account = newAccountId();
    await api.script(account, token, [{ answer: { json: { meta: [], data: [{ n: 1 }], rows: 1 } } }]);
    let calls = 0;
    const flaky = (failures: number) =>
      createAnalyticsSqlClient({
        baseUrl: api.baseUrl,
        accountId: account,
        apiToken: token,
        fetch: (input, init) => {
          calls++;
          if (calls <= failures) return Promise.reject(new Error('Network connection lost.'));
          return fetch(input, init);
        },
      });
    expect(await flaky(1).query('SELECT 1')).toEqual({ ok: true, rows: [{ n: 1 }] });
    expect(calls).toBe(2);
    calls = 0;
    const twice = await flaky(2).query('SELECT 1');
    expect(twice).toEqual({ ok: false, error: 'SQL API unreachable: Network connection lost.' });
    expect(calls).toBe(2);
  });
});

describe('readWindowStats', () => {
  it('sends the shared cohort-stats query and reads both cohorts from the wire format', async () => {
    const account = newAccountId();
    const window = { lastMinutes: 5 };
    const sql = cohortStatsQuery({ dataset: 'edge_rollout', window });
    const traffic = trafficSplitQuery({ dataset: 'edge_rollout', window });
    await api.script(account, token, [
      {
        sql: traffic,
        answer: {
          json: trafficSplitAnswer([
            {
              minute: 1_764_072_000,
              configVersion: 7,
              workerVersion: 'v-a',
              cohort: 'canary',
              requests: 512,
              failovers: 3,
            },
          ]),
        },
      },
      {
        sql,
        answer: {
          json: cohortStatsAnswer({
            canary: { requests: 512, errors: 12, p95Ms: 812.5, emailDelivered: 40, emailFailed: 2 },
            stable: { requests: 4608, errors: 9, p95Ms: 640, uploadsOk: 30, uploadsFailed: 1 },
          }),
        },
      },
    ]);
    const result = await readWindowStats(client(account), 'edge_rollout', window);
    expect(result).toEqual({
      ok: true,
      stats: {
        canary: {
          requests: 512,
          errors: 12,
          p95Ms: 812.5,
          emailDelivered: 40,
          emailFailed: 2,
          uploadsOk: 0,
          uploadsFailed: 0,
          storedRequests: 512,
          storedErrors: 12,
          storedSlow: 0,
          storedEmailDelivered: 40,
          storedEmailFailed: 2,
          storedUploadsOk: 0,
          storedUploadsFailed: 0,
        },
        stable: {
          requests: 4608,
          errors: 9,
          p95Ms: 640,
          emailDelivered: 0,
          emailFailed: 0,
          uploadsOk: 30,
          uploadsFailed: 1,
          storedRequests: 4608,
          storedErrors: 9,
          storedSlow: 0,
          storedEmailDelivered: 0,
          storedEmailFailed: 0,
          storedUploadsOk: 30,
          storedUploadsFailed: 1,
        },
        traffic: [
          {
            minute: 1_764_072_000,
            configVersion: '7',
            workerVersion: 'v-a',
            cohort: 'canary',
            requests: 512,
            failovers: 3,
            storedRequests: 512,
          },
        ],
      },
      sql: [sql, traffic],
    });
    expect((await api.requests(account)).map((r) => r.sql).sort()).toEqual([sql, traffic].sort());
  });

  it('counts a cohort with no row as no traffic, and a null p95 as 0', async () => {
    const account = newAccountId();
    const answer = cohortStatsAnswer({ stable: { requests: 100 } });
    (answer.data[0] as { p95Ms: number | null }).p95Ms = null;
    await api.script(account, token, [
      { sqlIncludes: 'AS minute', answer: { json: trafficSplitAnswer([]) } },
      { answer: { json: answer } },
    ]);
    const result = await readWindowStats(client(account), 'edge_rollout', {
      sinceEpochSeconds: 1_764_072_000,
    });
    expect(result.ok && result.stats.canary.requests).toBe(0);
    expect(result.ok && result.stats.stable).toMatchObject({ requests: 100, p95Ms: 0 });
    const [request] = await api.requests(account);
    expect(request!.sql).toContain('toDateTime(1764072000)');
  });

  it('fails the whole read when a row is malformed', async () => {
    const account = newAccountId();
    const answer = cohortStatsAnswer({ canary: { requests: 100 } });
    (answer.data[0] as Record<string, unknown>).errors = 'many';
    await api.script(account, token, [
      { sqlIncludes: 'AS minute', answer: { json: trafficSplitAnswer([]) } },
      { answer: { json: answer } },
    ]);
    const result = await readWindowStats(client(account), 'edge_rollout', { lastMinutes: 5 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/^SQL API row malformed: errors/);
  });

  it('reads per-route outcomes when asked, restricted to one Worker version like every query', async () => {
    const account = newAccountId();
    const window = {
      lastMinutes: 5,
      workerVersion: 'a1b2c3d4-0000-4000-8000-000000000001',
      withRoutes: true,
    };
    const routes = routeOutcomesQuery({ dataset: 'edge_rollout', window });
    await api.script(account, token, [
      { sqlIncludes: 'AS minute', answer: { json: trafficSplitAnswer([]) } },
      {
        sql: routes,
        answer: {
          json: {
            meta: [],
            data: [
              {
                cohort: 'canary',
                route: 'invoice_created',
                succeeded: 90,
                failed: 10,
                storedSucceeded: 9,
                storedFailed: 1,
              },
              {
                cohort: 'stable',
                route: 'invoice_created',
                succeeded: '900',
                failed: '5',
                storedSucceeded: '90',
                storedFailed: '1',
              },
            ],
            rows: 2,
          },
        },
      },
      { answer: { json: cohortStatsAnswer({ canary: { requests: 100 } }) } },
    ]);
    const result = await readWindowStats(client(account), 'edge_rollout', window);
    expect(result.ok && result.stats.routes).toEqual({
      invoice_created: {
        canary: { succeeded: 90, failed: 10, storedSucceeded: 9, storedFailed: 1 },
        stable: { succeeded: 900, failed: 5, storedSucceeded: 90, storedFailed: 1 },
      },
    });
    const sent = (await api.requests(account)).map((r) => r.sql);
    expect(sent).toHaveLength(3);
    for (const sql of sent) expect(sql).toContain("blob3 = 'a1b2c3d4-0000-4000-8000-000000000001'");
  });

  it('fails the whole read when a traffic row is malformed', async () => {
    const account = newAccountId();
    const traffic = trafficSplitAnswer([{ minute: 1, configVersion: 3, cohort: 'canary', requests: 5 }]);
    (traffic.data[0] as Record<string, unknown>).requests = 'lots';
    await api.script(account, token, [
      { sqlIncludes: 'AS minute', answer: { json: traffic } },
      { answer: { json: cohortStatsAnswer({ canary: { requests: 100 } }) } },
    ]);
    const result = await readWindowStats(client(account), 'edge_rollout', { lastMinutes: 5 });
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^SQL API row malformed: requests/) });
  });
});

import { describe, expect, it } from 'vitest';
import { quantileExactWeighted, runQuery, SqlError } from '../../scripts/demo/collector-sql.mjs';
import { startCollector } from '../../scripts/demo/collector.mjs';
import { createAnalyticsSqlClient, readWindowStats } from '../../src/guard/analytics-sql';
import { toDataPoint, type RequestMetric } from '../../src/metrics/data-point-schema';

// The demo's stand-in for Analytics Engine answers the guard's own queries (src/metrics/queries.ts),
// sent by the guard's own client, over data points the Worker's encoder wrote.

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 30);

function metric(overrides: Partial<RequestMetric>): RequestMetric {
  return {
    cohort: 'stable',
    assignedCohort: 'stable',
    configVersion: 7,
    workerVersion: 'w1',
    method: 'GET',
    route: 'other',
    status: 200,
    outcome: 'ok',
    colo: 'local',
    country: 'XX',
    totalMs: 10,
    upstreamMs: 5,
    failover: false,
    ...overrides,
  };
}

async function collectorWith(points: { metric: RequestMetric; atMs: number }[]) {
  let now = 0;
  const collector = await startCollector({ clock: () => now });
  for (const point of points) {
    now = point.atMs;
    const response = await fetch(`${collector.url}/points`, {
      method: 'POST',
      body: JSON.stringify(toDataPoint(point.metric)),
    });
    expect(response.status).toBe(202);
  }
  now = NOW_MS;
  const client = createAnalyticsSqlClient({
    baseUrl: collector.url,
    accountId: collector.accountId,
    apiToken: collector.token,
    fetch: (input, init) => fetch(input, init),
  });
  return { collector, client };
}

describe('demo collector (local Analytics Engine stand-in)', () => {
  it('answers the guard’s cohort, traffic and route queries with the numbers of the posted points', async () => {
    const recent = NOW_MS - 30_000;
    const points = [
      // 9 stable requests, latencies 10…90 ms.
      ...Array.from({ length: 9 }, (_, i) => ({ metric: metric({ totalMs: (i + 1) * 10 }), atMs: recent })),
      // 4 canary requests: 1 failed over to stable, 1 answered 503.
      { metric: metric({ assignedCohort: 'canary', cohort: 'canary', totalMs: 100 }), atMs: recent },
      { metric: metric({ assignedCohort: 'canary', cohort: 'canary', totalMs: 200 }), atMs: recent },
      {
        metric: metric({ assignedCohort: 'canary', cohort: 'stable', outcome: 'failover', failover: true }),
        atMs: recent,
      },
      {
        metric: metric({ assignedCohort: 'canary', cohort: 'canary', status: 503, outcome: 'error' }),
        atMs: recent,
      },
      // Reported events: 5 canary email deliveries failed, in one point.
      {
        metric: metric({
          assignedCohort: 'canary',
          cohort: 'canary',
          method: 'EVENT',
          route: 'email_delivery',
          routeSuccess: false,
          occurrences: 5,
          status: 0,
        }),
        atMs: recent,
      },
      // Outside a 5-minute window: never counted.
      {
        metric: metric({ assignedCohort: 'canary', cohort: 'canary', outcome: 'error' }),
        atMs: NOW_MS - 10 * 60_000,
      },
    ];
    const { collector, client } = await collectorWith(points);
    try {
      const read = await readWindowStats(client, 'edge_rollout', { lastMinutes: 5, withRoutes: true });
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      expect(read.stats.canary).toMatchObject({ requests: 4, errors: 2, emailFailed: 5, emailDelivered: 0 });
      expect(read.stats.stable).toMatchObject({ requests: 9, errors: 0, p95Ms: 90 });
      // quantileExactWeighted(0.95) over 10, 10, 100, 200 (the failover and the 503 took 10 ms).
      expect(read.stats.canary.p95Ms).toBe(200);
      const minute = Math.floor(recent / 60_000) * 60;
      expect(read.stats.traffic).toEqual([
        {
          minute,
          configVersion: '7',
          workerVersion: 'w1',
          cohort: 'stable',
          requests: 9,
          storedRequests: 9,
          failovers: 0,
        },
        {
          minute,
          configVersion: '7',
          workerVersion: 'w1',
          cohort: 'canary',
          requests: 4,
          storedRequests: 4,
          failovers: 1,
        },
      ]);
      expect(read.stats.routes).toEqual({
        email_delivery: {
          canary: { succeeded: 0, failed: 5, storedSucceeded: 0, storedFailed: 5 },
          stable: { succeeded: 0, failed: 0, storedSucceeded: 0, storedFailed: 0 },
        },
      });
      // A window since a moment, and one restricted to a Worker version that wrote nothing.
      const since = await readWindowStats(client, 'edge_rollout', {
        sinceEpochSeconds: Math.floor((NOW_MS - 20 * 60_000) / 1000),
      });
      expect(since.ok && since.stats.canary.requests).toBe(5);
      const other = await readWindowStats(client, 'edge_rollout', { lastMinutes: 5, workerVersion: 'w2' });
      expect(other.ok && other.stats.canary.requests + other.stats.stable.requests).toBe(0);
    } finally {
      await collector.close();
    }
  });

  it('refuses a wrong token (403), another table or unknown SQL (422), and a body that is not a data point (400)', async () => {
    const { collector, client } = await collectorWith([]);
    try {
      const wrong = createAnalyticsSqlClient({
        baseUrl: collector.url,
        accountId: collector.accountId,
        apiToken: 'not-the-token',
        fetch: (input, init) => fetch(input, init),
      });
      expect(await wrong.query('SELECT 1 AS one FROM edge_rollout FORMAT JSON')).toMatchObject({
        ok: false,
        error: expect.stringContaining('403'),
      });
      expect(await client.query('SELECT blob1 FROM other_table FORMAT JSON')).toMatchObject({
        ok: false,
        error: expect.stringContaining('unknown table other_table'),
      });
      expect(await client.query('SELECT uniqExact(blob1) AS n FROM edge_rollout FORMAT JSON')).toMatchObject({
        ok: false,
        error: expect.stringContaining('unsupported function uniqexact'),
      });
      const bad = await fetch(`${collector.url}/points`, { method: 'POST', body: '{"blobs":"x"}' });
      expect(bad.status).toBe(400);
      expect(collector.points()).toBe(0);
    } finally {
      await collector.close();
    }
  });

  it('aggregates without GROUP BY into one row, even over no rows', () => {
    const answer = runQuery('SELECT SUM(_sample_interval) AS n FROM edge_rollout FORMAT JSON', [], {
      dataset: 'edge_rollout',
      nowSeconds: 0,
    });
    expect(answer).toEqual({ meta: [{ name: 'n', type: 'Float64' }], data: [{ n: 0 }], rows: 1 });
    expect(() =>
      runQuery('DELETE FROM edge_rollout', [], { dataset: 'edge_rollout', nowSeconds: 0 }),
    ).toThrow(SqlError);
  });

  it.each([
    [
      0.5,
      [
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 1],
      ],
      2,
    ],
    [
      0.95,
      [
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 1],
      ],
      4,
    ],
    [
      0.5,
      [
        [1, 1],
        [2, 3],
      ],
      2,
    ],
    [
      0.5,
      [
        [1, 3],
        [2, 1],
      ],
      1,
    ],
    [0.95, [[5, 0]], null],
  ] as [number, [number, number][], number | null][])(
    'quantileExactWeighted(%s) of %j is %s, as ClickHouse computes it',
    (level, pairs, expected) => {
      expect(quantileExactWeighted(level, pairs)).toBe(expected);
    },
  );
});

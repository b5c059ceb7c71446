import { describe, expect, it } from 'vitest';
import { readWindowStats } from '../../src/guard/analytics-sql';
import { cohortStatsQuery, routeOutcomesQuery, trafficSplitQuery } from '../../src/metrics/queries';
import { checkAnalyticsSql } from '../../monitoring/generator/sql-check';
import { cohortStatsAnswer, trafficSplitAnswer } from '../support/fake-sql-api/control';

/** The column names the SQL API will return: the `AS alias` of each selected expression. */
function aliasesOf(sql: string): string[] {
  return [...sql.matchAll(/\bAS (\w+)\s*(?:,|\n\s*FROM)/g)].map((m) => m[1]!);
}

describe('the guard reads the columns its own query returns', () => {
  const sql = cohortStatsQuery({ dataset: 'edge_rollout', window: { lastMinutes: 5 } });
  const traffic = trafficSplitQuery({ dataset: 'edge_rollout', window: { lastMinutes: 5 } });
  const routes = routeOutcomesQuery({ dataset: 'edge_rollout', window: { lastMinutes: 5 } });
  const text = (name: string) => ['cohort', 'configVersion', 'workerVersion', 'route'].includes(name);

  it('parses a row keyed by the query’s aliases (as the real SQL API returns it)', async () => {
    const aliases = aliasesOf(sql);
    expect(aliases).toContain('cohort');
    const row = (query: string, cohort: string, requests: number) =>
      Object.fromEntries(
        aliasesOf(query).map((name) => [
          name,
          name === 'cohort' ? cohort : text(name) ? 'x' : String(requests),
        ]),
      );
    const answers = new Map(
      [sql, traffic, routes].map((query) => [query, [row(query, 'canary', 7), row(query, 'stable', 9)]]),
    );
    const result = await readWindowStats(
      { query: async (query) => ({ ok: true, rows: answers.get(query) ?? [] }) },
      'edge_rollout',
      { lastMinutes: 5, withRoutes: true },
    );
    expect(result).toMatchObject({
      ok: true,
      stats: {
        canary: { requests: 7 },
        stable: { requests: 9 },
        traffic: [
          { cohort: 'canary', requests: 7 },
          { cohort: 'stable', requests: 9 },
        ],
        routes: { x: { canary: { succeeded: 7 }, stable: { succeeded: 9 } } },
      },
    });
  });

  it('is answered by the loopback fake with exactly those columns', () => {
    const answer = cohortStatsAnswer({ canary: { requests: 1 } });
    expect(answer.meta.map((column) => column.name).sort()).toEqual(aliasesOf(sql).sort());
    const split = trafficSplitAnswer([]);
    expect(split.meta.map((column) => column.name).sort()).toEqual(aliasesOf(traffic).sort());
  });
});

describe('the guard’s traffic-split and route queries', () => {
  it.each([
    ['traffic split', trafficSplitQuery],
    ['route outcomes', routeOutcomesQuery],
  ])('%s uses declared columns, weighted aggregates and supported functions only', (_name, build) => {
    const window = { lastMinutes: 5, workerVersion: 'a1b2c3d4' };
    expect(checkAnalyticsSql(build({ dataset: 'edge_rollout', window }))).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { readWindowStats } from '../../src/guard/analytics-sql';
import { cohortStatsQuery } from '../../src/metrics/queries';
import { cohortStatsAnswer } from '../support/fake-sql-api/control';

/** The column names the SQL API will return: the `AS alias` of each selected expression. */
function aliasesOf(sql: string): string[] {
  return [...sql.matchAll(/\bAS (\w+)\s*(?:,|\n\s*FROM)/g)].map((m) => m[1]!);
}

describe('the guard reads the columns its own query returns', () => {
  const sql = cohortStatsQuery({ dataset: 'edge_rollout', window: { lastMinutes: 5 } });

  it('parses a row keyed by the query’s aliases (as the real SQL API returns it)', async () => {
    const aliases = aliasesOf(sql);
    expect(aliases).toContain('cohort');
    const row = (cohort: string, requests: number) =>
      Object.fromEntries(aliases.map((name) => [name, name === 'cohort' ? cohort : String(requests)]));
    const result = await readWindowStats(
      { query: async () => ({ ok: true, rows: [row('canary', 7), row('stable', 9)] }) },
      'edge_rollout',
      { lastMinutes: 5 },
    );
    expect(result).toMatchObject({ ok: true, stats: { canary: { requests: 7 }, stable: { requests: 9 } } });
  });

  it('is answered by the loopback fake with exactly those columns', () => {
    const answer = cohortStatsAnswer({ canary: { requests: 1 } });
    expect(answer.meta.map((column) => column.name).sort()).toEqual(aliasesOf(sql).sort());
  });
});

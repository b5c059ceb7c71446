import { describe, expect, it } from 'vitest';
import { cohortStatsQuery, datasetName, sqlString, weightedQuantile } from '../../src/metrics/queries';
import { checkAnalyticsSql } from '../../monitoring/generator/sql-check';

describe('SQL builders', () => {
  it('refuses literals and dataset names that could break out of the query', () => {
    expect(sqlString('email_delivery')).toBe("'email_delivery'");
    expect(() => sqlString("x' OR 1=1 --")).toThrow(/not a safe SQL literal/);
    expect(() => datasetName('edge_rollout; DROP')).toThrow(/not a dataset name/);
  });

  it('weights quantiles by _sample_interval, zeroing rows outside the condition', () => {
    expect(weightedQuantile(0.95, 'double1')).toBe('quantileExactWeighted(0.95)(double1, _sample_interval)');
    expect(weightedQuantile(0.99, 'double1', "blob4 != 'EVENT'")).toBe(
      "quantileExactWeighted(0.99)(double1, if(blob4 != 'EVENT', _sample_interval, 0))",
    );
  });

  it('counts stored rows for the exact tests, unweighted, with slow requests against the launch limit', () => {
    const sql = cohortStatsQuery({ dataset: 'edge_rollout', window: { lastMinutes: 5, slowerThanMs: 3000 } });
    expect(sql).toContain(
      "SUM(if((blob4 NOT IN ('EVENT', 'PROBE', 'OVERRIDE') AND blob7 != 'client') AND (double1 > 3000), 1, 0)) AS storedSlow",
    );
    expect(sql).toMatch(/SUM\(if\(.*, 1, 0\)\) AS storedRequests/);
    expect(sql).toMatch(/SUM\(if\(.*, double5, 0\)\) AS storedEmailFailed/);
    expect(checkAnalyticsSql(sql)).toEqual([]);
    // The checker still refuses an unweighted sum under any other name.
    expect(checkAnalyticsSql(sql.replace('AS storedSlow', 'AS slow'))).toEqual([
      expect.stringMatching(/is not weighted by _sample_interval/),
    ]);
  });

  it('builds the guard query per assigned cohort over the last minutes or since a moment', () => {
    const recent = cohortStatsQuery({ dataset: 'edge_rollout', window: { lastMinutes: 5 } });
    expect(recent).toContain("WHERE timestamp > NOW() - INTERVAL '5' MINUTE");
    expect(recent).toMatch(/^SELECT\n {2}blob11 AS cohort,/);
    for (const alias of [
      'requests',
      'errors',
      'p95Ms',
      'emailDelivered',
      'emailFailed',
      'uploadsOk',
      'uploadsFailed',
    ])
      expect(recent).toContain(` AS ${alias}`);
    expect(recent.endsWith('GROUP BY cohort\nFORMAT JSON')).toBe(true);
    const since = cohortStatsQuery({ dataset: 'edge_rollout', window: { sinceEpochSeconds: 1_790_000_000 } });
    expect(since).toContain('WHERE timestamp >= toDateTime(1790000000)');
    expect(checkAnalyticsSql(recent)).toEqual([]);
    expect(checkAnalyticsSql(since)).toEqual([]);
    expect(() => cohortStatsQuery({ dataset: 'edge_rollout', window: { lastMinutes: 0 } })).toThrow();
  });
});

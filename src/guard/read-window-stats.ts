import * as z from 'zod/mini';
import { describeIssues } from '../config/describe-issues';
import { cohortStatsQuery } from '../metrics/queries';
import type { AnalyticsSqlClient } from './analytics-sql-client';
import { EMPTY_COHORT_STATS, type CohortStats, type WindowStats } from './cohort-stats';
import { NumericCellSchema } from './sql-response-schema';
import type { StatsWindow } from './stats-window';

// One row per assigned cohort, with the aliases of COHORT_AGGREGATES (src/metrics/queries.ts).
const CohortRowSchema = z.object({
  cohort: z.string(),
  requests: NumericCellSchema,
  errors: NumericCellSchema,
  // A quantile over no weight is NaN, which ClickHouse's JSON prints as null.
  p95Ms: z.nullable(NumericCellSchema),
  emailDelivered: NumericCellSchema,
  emailFailed: NumericCellSchema,
  uploadsOk: NumericCellSchema,
  uploadsFailed: NumericCellSchema,
});

/** Both cohorts' stats, or why they could not be read. */
export type WindowStatsResult = { ok: true; stats: WindowStats } | { ok: false; error: string };

/**
 * Reads both cohorts' traffic and business outcomes over a window with the shared cohort-stats
 * query. Any failure, including one malformed row, fails the whole read: a verdict built on
 * half the data would be worse than none.
 *
 * @example
 * const result = await readWindowStats(sql, 'edge_rollout', { lastMinutes: 5 });
 */
export async function readWindowStats(
  client: AnalyticsSqlClient,
  dataset: string,
  window: StatsWindow,
): Promise<WindowStatsResult> {
  const result = await client.query(cohortStatsQuery({ dataset, window }));
  if (!result.ok) return result;
  const stats: WindowStats = { canary: { ...EMPTY_COHORT_STATS }, stable: { ...EMPTY_COHORT_STATS } };
  for (const raw of result.rows) {
    const row = CohortRowSchema.safeParse(raw);
    if (!row.success)
      return {
        ok: false,
        error: `SQL API row malformed: ${describeIssues(row.error).slice(0, 3).join('; ')}`,
      };
    const { cohort, p95Ms, ...counts } = row.data;
    // Rows of another cohort value (an empty blob from an older writer) belong to neither.
    if (cohort !== 'canary' && cohort !== 'stable') continue;
    const target: CohortStats = stats[cohort];
    for (const key of Object.keys(counts) as (keyof typeof counts)[]) target[key] += counts[key];
    target.p95Ms = Math.max(target.p95Ms, p95Ms ?? 0);
  }
  return { ok: true, stats };
}

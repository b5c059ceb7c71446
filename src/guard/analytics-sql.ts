import * as z from 'zod/mini';
import { describeIssues } from '../config/parse-config';
import { cohortStatsQuery, routeOutcomesQuery, trafficSplitQuery } from '../metrics/queries';
import { EMPTY_COHORT_STATS, type CohortStats, type WindowStats } from './analyze-canary';
import type { StatsWindow } from '../metrics/queries';
import type { TrafficRow } from './traffic-split';

/** The `fetch` the client uses (the runtime's, or a test's). */
export type SqlFetch = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link createAnalyticsSqlClient}. */
export interface AnalyticsSqlClientOptions {
  /** `https://api.cloudflare.com`, or a stand-in that speaks the same wire format. */
  baseUrl: string;
  accountId: string;
  apiToken: string;
  fetch: SqlFetch;
  /** Bound on the whole exchange, body included. */
  timeoutMs?: number;
}

/** Rows of a query, or why there are none. Never a throw. */
export type SqlQueryResult = { ok: true; rows: Record<string, unknown>[] } | { ok: false; error: string };

/** Runs SQL against the Workers Analytics Engine SQL API. */
export interface AnalyticsSqlClient {
  query(sql: string): Promise<SqlQueryResult>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_ERROR_SNIPPET = 200;

/**
 * A client for `POST /client/v4/accounts/<id>/analytics_engine/sql`. An HTTP error, a timeout,
 * a body that is not JSON or not the expected shape all come back as `{ ok: false, error }`;
 * the error text never contains the token.
 *
 * @example
 * const sql = createAnalyticsSqlClient({ baseUrl, accountId, apiToken, fetch });
 * const result = await sql.query("SELECT 'ok' AS message FORMAT JSON");
 */
export function createAnalyticsSqlClient(options: AnalyticsSqlClientOptions): AnalyticsSqlClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/client/v4/accounts/${encodeURIComponent(options.accountId)}/analytics_engine/sql`;
  const headers = { authorization: `Bearer ${options.apiToken}`, 'content-type': 'text/plain' };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async query(sql) {
      let status = 0;
      let text = '';
      // A query only reads, so a connection that dropped (a reused keep-alive connection the
      // other side closed) is tried once more; a timeout is not, it would double the wait.
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await options.fetch(url, {
            method: 'POST',
            headers,
            body: sql,
            signal: AbortSignal.timeout(timeoutMs),
          });
          status = response.status;
          text = await response.text();
          break;
        } catch (error) {
          const name = (error as Error)?.name;
          if (name === 'TimeoutError' || name === 'AbortError')
            return { ok: false, error: `SQL API did not answer within ${timeoutMs} ms` };
          if (attempt >= 2)
            return { ok: false, error: `SQL API unreachable: ${String((error as Error)?.message ?? error)}` };
        }
      }
      if (status < 200 || status > 299)
        return { ok: false, error: `SQL API answered ${status}: ${snippet(text)}` };
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { ok: false, error: `SQL API answered non-JSON: ${snippet(text)}` };
      }
      const parsed = SqlJsonResponseSchema.safeParse(body);
      if (!parsed.success)
        return {
          ok: false,
          error: `SQL API answer has an unexpected shape: ${describeIssues(parsed.error).slice(0, 3).join('; ')}`,
        };
      return { ok: true, rows: parsed.data.data };
    },
  };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ERROR_SNIPPET ? `${flat.slice(0, MAX_ERROR_SNIPPET)}…` : flat || '(empty body)';
}

/**
 * The Analytics Engine SQL API's `FORMAT JSON` answer (ClickHouse's JSON format): column names
 * and types, the rows as objects, and row counts. `rows_before_limit_at_least` only comes with
 * a LIMIT.
 */
export const SqlJsonResponseSchema = z.object({
  meta: z.array(z.object({ name: z.string(), type: z.string() })),
  data: z.array(z.record(z.string(), z.unknown())),
  rows: z.number(),
  rows_before_limit_at_least: z.optional(z.number()),
});

/** A validated SQL API answer. */
export type SqlJsonResponse = z.infer<typeof SqlJsonResponseSchema>;

/**
 * A numeric cell. 64-bit integers (e.g. `SUM(_sample_interval)`, a UInt64) arrive as strings in
 * ClickHouse's JSON format so that JavaScript cannot lose precision; floats arrive as numbers.
 */
export const NumericCellSchema = z.union([
  z.number().check(z.refine(Number.isFinite, 'must be a finite number')),
  z.pipe(
    z.string().check(z.regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'must be a numeric string')),
    z.transform(Number),
  ),
]);

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
  storedRequests: NumericCellSchema,
  storedErrors: NumericCellSchema,
  storedSlow: NumericCellSchema,
  storedEmailDelivered: NumericCellSchema,
  storedEmailFailed: NumericCellSchema,
  storedUploadsOk: NumericCellSchema,
  storedUploadsFailed: NumericCellSchema,
});

const TrafficRowSchema = z.object({
  minute: NumericCellSchema,
  configVersion: z.string(),
  workerVersion: z.string(),
  cohort: z.string(),
  requests: NumericCellSchema,
  failovers: NumericCellSchema,
  storedRequests: NumericCellSchema,
});

const RouteRowSchema = z.object({
  cohort: z.string(),
  route: z.string(),
  succeeded: NumericCellSchema,
  failed: NumericCellSchema,
  storedSucceeded: NumericCellSchema,
  storedFailed: NumericCellSchema,
});

/** Both cohorts' stats and the SQL that read them, or why they could not be read. */
export type WindowStatsResult =
  { ok: true; stats: WindowStats; sql?: string[] } | { ok: false; error: string };

/**
 * Reads a window: both cohorts' traffic and business outcomes (the shared cohort-stats query),
 * the traffic split per minute and version, and, when asked, the per-route outcomes. The queries
 * run in parallel. Any failure, including one malformed row, fails the whole read: a verdict
 * built on half the data would be worse than none.
 */
export async function readWindowStats(
  client: AnalyticsSqlClient,
  dataset: string,
  window: StatsWindow,
): Promise<WindowStatsResult> {
  const sql = [cohortStatsQuery({ dataset, window }), trafficSplitQuery({ dataset, window })];
  if (window.withRoutes) sql.push(routeOutcomesQuery({ dataset, window }));
  const answers = await Promise.all(sql.map((text) => client.query(text)));
  const rowsOf: Record<string, unknown>[][] = [];
  for (const answer of answers) {
    if (!answer.ok) return answer;
    rowsOf.push(answer.rows);
  }
  const stats: WindowStats = {
    canary: { ...EMPTY_COHORT_STATS },
    stable: { ...EMPTY_COHORT_STATS },
    traffic: [],
  };
  for (const raw of rowsOf[0]!) {
    const row = CohortRowSchema.safeParse(raw);
    if (!row.success) return malformed(row.error);
    const { cohort, p95Ms, ...counts } = row.data;
    // Rows of another cohort value (an empty blob from an older writer) belong to neither.
    if (cohort !== 'canary' && cohort !== 'stable') continue;
    const target: CohortStats = stats[cohort];
    for (const key of Object.keys(counts) as (keyof typeof counts)[]) target[key] += counts[key];
    target.p95Ms = Math.max(target.p95Ms, p95Ms ?? 0);
  }
  for (const raw of rowsOf[1]!) {
    const row = TrafficRowSchema.safeParse(raw);
    if (!row.success) return malformed(row.error);
    stats.traffic!.push(row.data satisfies TrafficRow);
  }
  if (rowsOf[2]) {
    stats.routes = {};
    for (const raw of rowsOf[2]) {
      const row = RouteRowSchema.safeParse(raw);
      if (!row.success) return malformed(row.error);
      const { cohort, route, ...counts } = row.data;
      if (cohort !== 'canary' && cohort !== 'stable') continue;
      const none = () => ({ succeeded: 0, failed: 0, storedSucceeded: 0, storedFailed: 0 });
      const entry = (stats.routes[route] ??= { canary: none(), stable: none() });
      const target = entry[cohort];
      for (const key of Object.keys(counts) as (keyof typeof counts)[])
        target[key] = (target[key] ?? 0) + counts[key];
    }
  }
  return { ok: true, stats, sql };
}

function malformed(error: z.core.$ZodError): WindowStatsResult {
  return { ok: false, error: `SQL API row malformed: ${describeIssues(error).slice(0, 3).join('; ')}` };
}

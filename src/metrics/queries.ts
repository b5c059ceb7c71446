import {
  BLOB_COLUMNS as BLOB,
  DOUBLE_COLUMNS as DOUBLE,
  OVERRIDE_METHOD,
  PROBE_METHOD,
  PROBE_ROUTE,
  type RequestOutcome,
} from './data-point-schema';
import { EVENT_METHOD } from './outcome-events';

/**
 * SQL for the Analytics Engine SQL API, built only from the column names in
 * data-point-schema.ts. Dashboards, alert rules and the guard all read through these builders,
 * so a metric means the same thing everywhere. Every count is weighted by `_sample_interval`
 * (Analytics Engine samples at high volume; a stored row may stand for many requests).
 */

/** Analytics Engine's per-row sampling weight. */
export const SAMPLE_INTERVAL = '_sample_interval';

/** The dataset names wrangler.toml declares; anything else is refused before it reaches SQL. */
const DATASET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Quotes a value for SQL. Only identifier-like values are accepted (route names, cohorts,
 * outcomes): the builders never need more, and refusing the rest rules out injection.
 *
 * @example
 * sqlString('email_delivery'); // "'email_delivery'"
 */
export function sqlString(value: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value))
    throw new Error(`not a safe SQL literal: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** Checks a dataset name and returns it, for use after `FROM`. */
export function datasetName(name: string): string {
  if (!DATASET_NAME.test(name) && name !== '${dataset}') throw new Error(`not a dataset name: ${name}`);
  return name;
}

/**
 * A proxied request (not a reported event, not an uptime probe, not an opened QA override link),
 * whatever its outcome.
 */
const PROXIED = `${BLOB.method} NOT IN (${sqlString(EVENT_METHOD)}, ${sqlString(PROBE_METHOD)}, ${sqlString(OVERRIDE_METHOD)})`;

/** The outcome of a failure the visitor caused (see `RequestOutcome`). */
const CLIENT_OUTCOME = sqlString('client' satisfies RequestOutcome);

/** Row filters, by meaning. */
export const WHERE = {
  /**
   * A proxied request a cohort answers for: not a reported event, not an uptime probe, and not a
   * failure the visitor caused (outcome `client`: an aborted, short or too slow upload). Those
   * count in no request total, error rate, latency or business rate, so a few hostile clients
   * with canary ids cannot make a healthy canary look sick; {@link WHERE.byClient} shows them.
   */
  request: `${PROXIED} AND ${BLOB.outcome} != ${CLIENT_OUTCOME}`,
  /** A proxied request that failed because of the visitor (outcome `client`). */
  byClient: `${PROXIED} AND ${BLOB.outcome} = ${CLIENT_OUTCOME}`,
  /** An uptime probe of an origin. */
  probe: `${BLOB.route} = ${sqlString(PROBE_ROUTE)} AND ${BLOB.method} = ${sqlString(PROBE_METHOD)}`,
  /**
   * A request that was not served cleanly by its assigned cohort: 5xx, no response, or failover
   * (never a failure the visitor caused).
   */
  failed: `${BLOB.outcome} NOT IN ('ok', ${CLIENT_OUTCOME})`,
  ok: `${BLOB.outcome} = 'ok'`,
  failover: `${BLOB.outcome} = 'failover'`,
  serverError: `${BLOB.statusClass} = '5xx'`,
  clientError: `${BLOB.statusClass} = '4xx'`,
  route: (name: string) => `${BLOB.route} = ${sqlString(name)}`,
  succeeded: `${BLOB.routeResult} = 'success'`,
  failedOutcome: `${BLOB.routeResult} = 'failure'`,
  judged: `${BLOB.routeResult} != 'none'`,
  cohort: (cohort: 'stable' | 'canary') => `${BLOB.assignedCohort} = ${sqlString(cohort)}`,
} as const;

/** Joins filters with AND. */
export function all(...conditions: string[]): string {
  return conditions.map((condition) => `(${condition})`).join(' AND ');
}

/**
 * The estimated number of requests (rows × sampling weight), optionally only where `condition`.
 *
 * @example
 * weightedCount(WHERE.failed); // "SUM(if(blob7 NOT IN ('ok', 'client'), _sample_interval, 0))"
 */
export function weightedCount(condition?: string): string {
  return condition === undefined ? `SUM(${SAMPLE_INTERVAL})` : `SUM(if(${condition}, ${SAMPLE_INTERVAL}, 0))`;
}

/**
 * The number of stored rows where `condition`, deliberately *not* weighted: the sample Analytics
 * Engine kept. The guard's exact tests judge these, since a weighted count (one row standing for
 * many requests) would claim more evidence than was seen. Only columns named `stored…` use it.
 *
 * @example
 * storedCount(WHERE.failed); // "SUM(if(blob7 NOT IN ('ok', 'client'), 1, 0))"
 */
export function storedCount(condition: string): string {
  return `SUM(if(${condition}, 1, 0))`;
}

/** Stored occurrences (events carry a count in `double5`) where `condition`, not weighted. */
export function storedOccurrences(condition: string): string {
  return `SUM(if(${condition}, ${DOUBLE.occurrences}, 0))`;
}

/** The estimated number of occurrences (events carry a count in `double5`) where `condition`. */
export function weightedOccurrences(condition: string): string {
  return `SUM(if(${condition}, ${SAMPLE_INTERVAL} * ${DOUBLE.occurrences}, 0))`;
}

/**
 * A sampling-weighted quantile. With a condition, non-matching rows get weight 0, so one query
 * can mix requests and events without the events' zero latencies pulling the quantile down.
 *
 * @example
 * weightedQuantile(0.95, 'double1'); // 'quantileExactWeighted(0.95)(double1, _sample_interval)'
 */
export function weightedQuantile(level: number, column: string, condition?: string): string {
  const weight = condition === undefined ? SAMPLE_INTERVAL : `if(${condition}, ${SAMPLE_INTERVAL}, 0)`;
  return `quantileExactWeighted(${level})(${column}, ${weight})`;
}

/** `100 × part / whole`, as a percentage. */
export function percentOf(part: string, whole: string): string {
  return `${part} * 100 / ${whole}`;
}

/**
 * Per-cohort aggregates shared by the guard and the alert rules. The keys are the SQL aliases,
 * and they are the guard's `CohortStats` field names, so a row reads straight into its stats. Events count by their
 * `occurrences` (an event may stand for many deliveries); requests by rows. Cohorts are the visitor's assigned cohort, so a canary failure that
 * stable served still counts against the canary.
 */
export const COHORT_AGGREGATES = {
  requests: weightedCount(WHERE.request),
  errors: weightedCount(all(WHERE.request, WHERE.failed)),
  p95Ms: weightedQuantile(0.95, DOUBLE.totalMs, WHERE.request),
  emailDelivered: weightedOccurrences(all(WHERE.route('email_delivery'), WHERE.succeeded)),
  emailFailed: weightedOccurrences(all(WHERE.route('email_delivery'), WHERE.failedOutcome)),
  uploadsOk: weightedOccurrences(all(WHERE.route('file_upload'), WHERE.succeeded)),
  uploadsFailed: weightedOccurrences(all(WHERE.route('file_upload'), WHERE.failedOutcome)),
} as const;

/** The latency limit the cohort-stats query counts slower requests against by default (ms). */
export const DEFAULT_SLOW_MS = 2000;

/**
 * The stored (unweighted) counts the guard's exact tests judge, per assigned cohort: requests,
 * errors, requests slower than `slowerThanMs` (the p95 row: at most 5 % may be), and business
 * outcomes. Keys are the aliases and `CohortStats` field names.
 */
export function storedAggregates(slowerThanMs: number = DEFAULT_SLOW_MS) {
  if (!(Number.isFinite(slowerThanMs) && slowerThanMs > 0)) throw new Error('slowerThanMs must be > 0');
  return {
    storedRequests: storedCount(WHERE.request),
    storedErrors: storedCount(all(WHERE.request, WHERE.failed)),
    storedSlow: storedCount(all(WHERE.request, `${DOUBLE.totalMs} > ${Number(slowerThanMs)}`)),
    storedEmailDelivered: storedOccurrences(all(WHERE.route('email_delivery'), WHERE.succeeded)),
    storedEmailFailed: storedOccurrences(all(WHERE.route('email_delivery'), WHERE.failedOutcome)),
    storedUploadsOk: storedOccurrences(all(WHERE.route('file_upload'), WHERE.succeeded)),
    storedUploadsFailed: storedOccurrences(all(WHERE.route('file_upload'), WHERE.failedOutcome)),
  };
}

/**
 * Which rows the guard judges: the last N minutes, or since a moment (a step's start);
 * optionally only one Worker version's requests, and with per-route outcomes.
 */
export type StatsWindow = ({ lastMinutes: number } | { sinceEpochSeconds: number }) & {
  /** Only rows written by this Worker version (`wrangler versions deploy` splits of the splitter). */
  workerVersion?: string;
  /** Also read the per-route outcomes (when the launch sets route thresholds). */
  withRoutes?: boolean;
  /** The latency limit `storedSlow` counts against (the launch's `maxP95Ms`); 2000 when absent. */
  slowerThanMs?: number;
};

function windowCondition(window: StatsWindow): string {
  const time = timeCondition(window);
  return window.workerVersion === undefined
    ? time
    : `${time} AND ${BLOB.workerVersion} = ${sqlString(window.workerVersion)}`;
}

function timeCondition(window: StatsWindow): string {
  if ('lastMinutes' in window) {
    if (!Number.isInteger(window.lastMinutes) || window.lastMinutes < 1)
      throw new Error('lastMinutes must be ≥ 1');
    return `timestamp > NOW() - INTERVAL '${window.lastMinutes}' MINUTE`;
  }
  if (!Number.isInteger(window.sinceEpochSeconds) || window.sinceEpochSeconds < 0)
    throw new Error('sinceEpochSeconds must be a whole number of seconds');
  return `timestamp >= toDateTime(${window.sinceEpochSeconds})`;
}

/**
 * The guard's query: one row per assigned cohort with `cohort`, `requests`, `errors`, `p95Ms`,
 * `emailDelivered`, `emailFailed`, `uploadsOk` and `uploadsFailed`, all sampling-weighted, and
 * the stored counts of {@link storedAggregates} (slow requests against `window.slowerThanMs`).
 * It ends in `FORMAT JSON` for the SQL API (Grafana's datasource adds its own, so the panel
 * builders below do not).
 */
export function cohortStatsQuery(options: { dataset: string; window: StatsWindow }): string {
  const aggregates = { ...COHORT_AGGREGATES, ...storedAggregates(options.window.slowerThanMs) };
  const columns = Object.entries(aggregates).map(([alias, expression]) => `  ${expression} AS ${alias}`);
  return [
    'SELECT',
    `  ${BLOB.assignedCohort} AS cohort,`,
    columns.join(',\n'),
    `FROM ${datasetName(options.dataset)}`,
    `WHERE ${windowCondition(options.window)}`,
    'GROUP BY cohort',
    'FORMAT JSON',
  ].join('\n');
}

/**
 * The guard's traffic-split query: proxied requests per minute (`minute`, epoch seconds), config
 * version, Worker version and assigned cohort, with how many of them failed over and how many
 * rows were stored (the split test's sample). One answer feeds
 * the sample-ratio test, the propagation of a config version and the Worker versions seen.
 */
export function trafficSplitQuery(options: { dataset: string; window: StatsWindow }): string {
  return [
    'SELECT',
    `  toUInt32(toStartOfMinute(timestamp)) AS minute,`,
    `  ${BLOB.configVersion} AS configVersion,`,
    `  ${BLOB.workerVersion} AS workerVersion,`,
    `  ${BLOB.assignedCohort} AS cohort,`,
    `  ${weightedCount()} AS requests,`,
    `  ${weightedCount(WHERE.failover)} AS failovers,`,
    `  ${storedCount(WHERE.request)} AS storedRequests`,
    `FROM ${datasetName(options.dataset)}`,
    `WHERE ${windowCondition(options.window)} AND ${WHERE.request}`,
    'GROUP BY minute, configVersion, workerVersion, cohort',
    'ORDER BY minute',
    'FORMAT JSON',
  ].join('\n');
}

/**
 * Business outcomes per assigned cohort and route (`succeeded`, `failed`, weighted by occurrences),
 * for the routes a launch gives a success threshold.
 */
export function routeOutcomesQuery(options: { dataset: string; window: StatsWindow }): string {
  return [
    'SELECT',
    `  ${BLOB.assignedCohort} AS cohort,`,
    `  ${BLOB.route} AS route,`,
    `  ${weightedOccurrences(WHERE.succeeded)} AS succeeded,`,
    `  ${weightedOccurrences(WHERE.failedOutcome)} AS failed,`,
    `  ${storedOccurrences(WHERE.succeeded)} AS storedSucceeded,`,
    `  ${storedOccurrences(WHERE.failedOutcome)} AS storedFailed`,
    `FROM ${datasetName(options.dataset)}`,
    `WHERE ${windowCondition(options.window)} AND ${WHERE.judged}`,
    'GROUP BY cohort, route',
    'FORMAT JSON',
  ].join('\n');
}

/** One value of a Grafana time series query: an SQL expression and its column alias. */
export interface SeriesValue {
  expression: string;
  alias: string;
}

/**
 * A Grafana time series over the Altinity ClickHouse datasource: `$timeSeries` buckets by the
 * panel interval, `$timeFilter` limits to the dashboard range, one series per `by` value.
 */
export function timeSeriesQuery(options: {
  dataset: string;
  values: readonly SeriesValue[];
  where?: readonly string[];
  by?: 'cohort' | 'route' | 'configVersion';
}): string {
  const by = options.by ?? 'cohort';
  const byColumn = { cohort: BLOB.assignedCohort, route: BLOB.route, configVersion: BLOB.configVersion }[by];
  const filters = ['$timeFilter', ...(options.where ?? []).map((condition) => `(${condition})`)];
  return [
    'SELECT',
    '  $timeSeries AS t,',
    `  ${byColumn} AS ${by},`,
    options.values.map((value) => `  ${value.expression} AS ${value.alias}`).join(',\n'),
    `FROM ${datasetName(options.dataset)}`,
    `WHERE ${filters.join(' AND ')}`,
    `GROUP BY t, ${by}`,
    'ORDER BY t',
  ].join('\n');
}

/**
 * An alert query: one point per assigned cohort, aggregated over the whole alert window
 * (`$timeFilter` is the rule's relative time range), kept only when `minimum` (an aggregate
 * alias) is large enough to judge.
 */
export function windowAlertQuery(options: {
  dataset: string;
  value: SeriesValue;
  support: SeriesValue & { minimum: number };
  where?: readonly string[];
}): string {
  const filters = ['$timeFilter', ...(options.where ?? []).map((condition) => `(${condition})`)];
  return [
    `SELECT t, cohort, ${options.value.alias}`,
    'FROM (',
    '  SELECT',
    '    toUInt32(max(timestamp)) * 1000 AS t,',
    `    ${BLOB.assignedCohort} AS cohort,`,
    `    ${options.support.expression} AS ${options.support.alias},`,
    `    ${options.value.expression} AS ${options.value.alias}`,
    `  FROM ${datasetName(options.dataset)}`,
    `  WHERE ${filters.join(' AND ')}`,
    '  GROUP BY cohort',
    ')',
    `WHERE ${options.support.alias} >= ${Number(options.support.minimum)}`,
  ].join('\n');
}

/**
 * The cockpit's charts: one row per minute (`minute`, epoch seconds of its start) and assigned
 * cohort over the last `lastMinutes`, with the aggregates of {@link COHORT_AGGREGATES} (requests,
 * errors, p95, email and upload outcomes), all weighted by `_sample_interval` like the guard's.
 * Events and requests share the rows: each aggregate carries its own filter, so reported events
 * never count as requests nor pull the p95 down. A minute without rows is simply absent: the
 * reader fills the gap.
 *
 * @example
 * cohortMinutesQuery({ dataset: 'edge_rollout', lastMinutes: 60 });
 * // SELECT toUInt32(toStartOfMinute(timestamp)) AS minute, blob11 AS cohort, … GROUP BY minute, cohort
 */
export function cohortMinutesQuery(options: { dataset: string; lastMinutes: number }): string {
  const columns = Object.entries(COHORT_AGGREGATES).map(
    ([alias, expression]) => `  ${expression} AS ${alias}`,
  );
  return [
    'SELECT',
    '  toUInt32(toStartOfMinute(timestamp)) AS minute,',
    `  ${BLOB.assignedCohort} AS cohort,`,
    columns.join(',\n'),
    `FROM ${datasetName(options.dataset)}`,
    `WHERE ${timeCondition({ lastMinutes: options.lastMinutes })}`,
    'GROUP BY minute, cohort',
    'ORDER BY minute',
    'FORMAT JSON',
  ].join('\n');
}

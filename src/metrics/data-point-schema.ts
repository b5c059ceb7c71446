import type { RequestMetric } from '../vocabulary';

// The data point's vocabulary lives in the leaf module; re-exported for the metrics' callers.
export type { RequestMetric, RequestOutcome } from '../vocabulary';

/**
 * The Analytics Engine data point, column by column. This module is the single source of truth:
 * the sink writes with it, and the dashboards, alert rules and the guard's SQL are generated from
 * (or checked against) it. Columns are only ever appended: reordering would silently change the
 * meaning of every stored row.
 */
export const BLOB_COLUMNS = {
  cohort: 'blob1',
  configVersion: 'blob2',
  workerVersion: 'blob3',
  method: 'blob4',
  route: 'blob5',
  statusClass: 'blob6',
  outcome: 'blob7',
  colo: 'blob8',
  country: 'blob9',
  /** `success` | `failure` for business routes and events, `none` elsewhere. */
  routeResult: 'blob10',
  /** The cohort first chosen for the visitor: `canary` for a failover that stable served. */
  assignedCohort: 'blob11',
} as const;

/** Numeric columns. */
export const DOUBLE_COLUMNS = {
  totalMs: 'double1',
  upstreamMs: 'double2',
  status: 'double3',
  failover: 'double4',
  /** How many occurrences the point stands for: 1 for a request, the `count` of a reported event. */
  occurrences: 'double5',
} as const;

/** The index: one cohort per data point, so per-cohort queries sample evenly. */
export const INDEX_COLUMN = 'index1';

/** The route name for requests that match no business route. */
export const OTHER_ROUTE = 'other';

/** A data point as `writeDataPoint` takes it. */
export interface DataPoint {
  indexes: [string];
  blobs: string[];
  doubles: number[];
}

/** Encodes a request metric in column order. */
export function toDataPoint(metric: RequestMetric): DataPoint {
  const routeResult =
    metric.routeSuccess === undefined ? 'none' : metric.routeSuccess ? 'success' : 'failure';
  const blobs: Record<keyof typeof BLOB_COLUMNS, string> = {
    cohort: metric.cohort,
    configVersion: String(metric.configVersion),
    workerVersion: metric.workerVersion,
    method: metric.method,
    route: metric.route,
    statusClass: metric.status === 0 ? 'none' : `${Math.floor(metric.status / 100)}xx`,
    outcome: metric.outcome,
    colo: metric.colo,
    country: metric.country,
    routeResult,
    assignedCohort: metric.assignedCohort,
  };
  const doubles: Record<keyof typeof DOUBLE_COLUMNS, number> = {
    totalMs: metric.totalMs,
    upstreamMs: metric.upstreamMs,
    status: metric.status,
    failover: metric.failover ? 1 : 0,
    occurrences: metric.occurrences ?? 1,
  };
  return {
    indexes: [metric.cohort],
    blobs: BLOB_ORDER.map((key) => blobs[key]),
    doubles: DOUBLE_ORDER.map((key) => doubles[key]),
  };
}

// Sorted once at load: toDataPoint runs on every request.
const BLOB_ORDER = columnOrder(BLOB_COLUMNS);
const DOUBLE_ORDER = columnOrder(DOUBLE_COLUMNS);

function columnOrder<K extends string>(columns: Record<K, string>): K[] {
  return (Object.keys(columns) as K[]).sort((a, b) => columnNumber(columns[a]) - columnNumber(columns[b]));
}

function columnNumber(column: string): number {
  return Number(column.replace(/\D/g, ''));
}

/** The route value of a probe's data point: dashboards and alert rules select probes by it. */
export const PROBE_ROUTE = 'probe';

/** The method value of a probe's data point: not a proxied request, so the guard's stats skip it. */
export const PROBE_METHOD = 'PROBE';

/**
 * The method and route of the data point an opened QA override link records (one per use, on the
 * edge). Not a proxied request of the app.
 */
export const OVERRIDE_METHOD = 'OVERRIDE';
export const OVERRIDE_ROUTE = 'override';

/** The `colo` of a probe's data point (a Cron Trigger has no visitor location). */
export const PROBE_COLO = 'cron';

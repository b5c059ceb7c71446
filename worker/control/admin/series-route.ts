import type { Handler } from 'hono';
import * as z from 'zod/mini';
import type { AuditEntry } from '../../../src/admin/history-and-audit';
import type { RolloutConfig } from '../../../src/config/config-schema';
import { describeIssues } from '../../../src/config/parse-config';
import {
  createAnalyticsSqlClient,
  NumericCellSchema,
  type AnalyticsSqlClient,
  type SqlFetch,
} from '../../../src/guard/analytics-sql';
import { parseGuardSettings, resolveGuardPolicy, resolveThresholds } from '../../../src/guard/guard-settings';
import { cohortMinutesQuery, trafficSplitQuery } from '../../../src/metrics/queries';
import type { ControlDeps } from '../control-deps';
import { AdminError, type AdminEnv } from './admin-http';

/**
 * `GET <prefix>/series?minutes=60`: the cockpit's charts, canary against stable, one point a
 * minute. Two SQL API queries feed every panel (the per-minute cohort aggregates and the guard's
 * own traffic-split query for the config versions), built by src/metrics/queries.ts like the
 * guard's, so a chart and a verdict can never disagree on what "error rate" means.
 *
 * Cost: the answer is kept {@link SERIES_CACHE_MS} per isolate and shared by every viewer it serves
 * (concurrent misses share one read), so open cockpits cost at most 2 queries per 15 s per isolate,
 * 8 queries a minute however many tabs poll that isolate, plus one read (2 queries) after each
 * config write, so that an abort shows at once.
 */

/** How long one read of the SQL API serves every viewer of this isolate. */
export const SERIES_CACHE_MS = 15_000;

const SeriesQuerySchema = z.object({
  minutes: z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d{1,3}$/, 'minutes must be a whole number')),
      z.pipe(z.transform(Number), z.int().check(z.gte(5), z.lte(180))),
    ),
  ),
});

const CohortMinuteSchema = z.object({
  minute: NumericCellSchema,
  cohort: z.string(),
  requests: NumericCellSchema,
  errors: NumericCellSchema,
  p95Ms: z.nullable(NumericCellSchema),
  emailDelivered: NumericCellSchema,
  emailFailed: NumericCellSchema,
  uploadsOk: NumericCellSchema,
  uploadsFailed: NumericCellSchema,
});
const VersionMinuteSchema = z.object({
  minute: NumericCellSchema,
  configVersion: z.string(),
  requests: NumericCellSchema,
});

/** One row of {@link cohortMinutesQuery}, validated. */
export type CohortMinute = z.infer<typeof CohortMinuteSchema>;
/** The part of a traffic-split row the version panel reads. */
export type VersionMinute = z.infer<typeof VersionMinuteSchema>;

/** A limit drawn on a panel: the panel fails when a value goes `failsWhen` it. */
export interface ChartThreshold {
  value: number;
  failsWhen: 'above' | 'below';
  label: string;
}

/** One chart: a value per minute for each line (null: no data that minute), with its counts. */
export interface ChartPanel {
  id: string;
  title: string;
  unit: '%' | 'ms';
  threshold: ChartThreshold | null;
  /** Line name → one value per minute. Cohort panels have `canary` and `stable`. */
  lines: Record<string, (number | null)[]>;
  /** What each point was computed from (requests or outcomes), per line and minute. */
  samples: Record<string, number[]>;
  /** Why the panel has nothing to draw, said in words; absent when it has. */
  empty?: string;
}

/** An audit event on the time axis. */
export interface AuditMark {
  at: string;
  /** Index of its minute in `minutes`. */
  index: number;
  action: string;
  actor: string;
  version: number;
  reason?: string;
}

/** What the cockpit draws. */
export interface SeriesBody {
  available: true;
  /** Epoch seconds of each minute's start, oldest first. */
  minutes: number[];
  panels: ChartPanel[];
  marks: AuditMark[];
}

/**
 * Turns the per-minute rows into panels: every minute of the window present (a minute without
 * rows is a gap, `null`, never a zero), rates computed per minute, each launch threshold resolved
 * from the config, and the audit entries that fall in the window marked on it.
 *
 * @example
 * shapeSeries({ nowSeconds, minutes: 60, cohortRows, versionRows, config, audit }).panels[0].id; // 'errorRate'
 */
export function shapeSeries(input: {
  nowSeconds: number;
  minutes: number;
  cohortRows: readonly CohortMinute[];
  versionRows: readonly VersionMinute[];
  config: RolloutConfig;
  audit: readonly AuditEntry[];
}): SeriesBody {
  const last = Math.floor(input.nowSeconds / 60) * 60;
  const minutes = Array.from({ length: input.minutes }, (_, i) => last - (input.minutes - 1 - i) * 60);
  const indexOf = new Map(minutes.map((minute, i) => [minute, i]));
  type Cell = Omit<CohortMinute, 'minute' | 'cohort'>;
  const column = () => minutes.map((): Cell | undefined => undefined);
  const cells = { canary: column(), stable: column() };
  for (const { minute, cohort, ...row } of input.cohortRows) {
    const i = indexOf.get(minute);
    if (i === undefined || (cohort !== 'canary' && cohort !== 'stable')) continue;
    cells[cohort][i] = row;
  }
  const thresholds = resolveThresholds(input.config.thresholds);
  const policy = resolveGuardPolicy(input.config.guard);
  const cohortPanel = (
    id: string,
    title: string,
    unit: ChartPanel['unit'],
    threshold: ChartThreshold | null,
    value: (cell: Cell, i: number) => { value: number | null; samples: number },
    noun: string,
  ): ChartPanel => {
    const lines: ChartPanel['lines'] = {};
    const samples: ChartPanel['samples'] = {};
    for (const cohort of ['canary', 'stable'] as const) {
      const points = cells[cohort].map((cell, i) => (cell ? value(cell, i) : { value: null, samples: 0 }));
      lines[cohort] = points.map((point) => (point.samples > 0 ? point.value : null));
      samples[cohort] = points.map((point) => point.samples);
    }
    const total = (cohort: string) => samples[cohort]!.reduce((sum, n) => sum + n, 0);
    const why =
      total('canary') + total('stable') === 0
        ? `no ${noun} in the window`
        : total('canary') === 0
          ? `no canary ${noun} in the window`
          : undefined;
    return { id, title, unit, threshold, lines, samples, ...(why ? { empty: why } : {}) };
  };
  const rate = (part: number, whole: number) => ({
    value: whole > 0 ? (part * 100) / whole : null,
    samples: whole,
  });
  const totals = minutes.map((_, i) => (cells.canary[i]?.requests ?? 0) + (cells.stable[i]?.requests ?? 0));
  const panels = [
    cohortPanel(
      'errorRate',
      'Error rate',
      '%',
      {
        value: thresholds.maxErrorRatePercent,
        failsWhen: 'above',
        label: `abort above ${thresholds.maxErrorRatePercent} %`,
      },
      (cell) => rate(cell.errors, cell.requests),
      'traffic',
    ),
    cohortPanel(
      'p95',
      'p95 latency',
      'ms',
      { value: thresholds.maxP95Ms, failsWhen: 'above', label: `abort above ${thresholds.maxP95Ms} ms` },
      (cell) => ({ value: cell.p95Ms, samples: cell.requests }),
      'traffic',
    ),
    cohortPanel(
      'requestShare',
      'Request share',
      '%',
      {
        value: input.config.rollout.percent,
        failsWhen: 'above',
        label: `configured ${input.config.rollout.percent} % canary`,
      },
      (cell, i) => ({
        value: totals[i]! > 0 ? (cell.requests * 100) / totals[i]! : null,
        samples: cell.requests,
      }),
      'traffic',
    ),
    cohortPanel(
      'emailDelivery',
      'Email delivery',
      '%',
      {
        value: thresholds.minEmailDeliveryPercent,
        failsWhen: 'below',
        label: `abort below ${thresholds.minEmailDeliveryPercent} %`,
      },
      (cell) => rate(cell.emailDelivered, cell.emailDelivered + cell.emailFailed),
      'email outcomes',
    ),
    cohortPanel(
      'uploadFailure',
      'File upload failure',
      '%',
      {
        value: thresholds.maxUploadFailurePercent,
        failsWhen: 'above',
        label: `abort above ${thresholds.maxUploadFailurePercent} %`,
      },
      (cell) => rate(cell.uploadsFailed, cell.uploadsOk + cell.uploadsFailed),
      'upload outcomes',
    ),
    versionPanel(minutes, indexOf, input.versionRows, policy.minPropagationPercent),
  ];
  const from = minutes[0]! * 1000;
  const marks: AuditMark[] = [];
  // The audit log comes newest first; reversed, entries of one instant keep their order.
  for (const entry of [...input.audit].reverse()) {
    const at = Date.parse(entry.at);
    if (!(at >= from && at < (last + 60) * 1000)) continue;
    const index = indexOf.get(Math.floor(at / 60_000) * 60)!;
    const reason = entry.reason === undefined ? {} : { reason: entry.reason };
    marks.push({
      at: entry.at,
      index,
      action: entry.action,
      actor: entry.actor,
      version: entry.version,
      ...reason,
    });
  }
  marks.sort((a, b) => a.at.localeCompare(b.at));
  return { available: true, minutes, panels, marks };
}

/** The share of each minute's requests served under each config version (propagation). */
function versionPanel(
  minutes: number[],
  indexOf: Map<number, number>,
  rows: readonly VersionMinute[],
  minPropagationPercent: number,
): ChartPanel {
  const counts = new Map<string, number[]>();
  const totals = minutes.map(() => 0);
  for (const row of rows) {
    const i = indexOf.get(row.minute);
    if (i === undefined) continue;
    const line = counts.get(`v${row.configVersion}`) ?? minutes.map(() => 0);
    line[i]! += row.requests;
    totals[i]! += row.requests;
    counts.set(`v${row.configVersion}`, line);
  }
  const names = [...counts.keys()].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const lines: ChartPanel['lines'] = {};
  const samples: ChartPanel['samples'] = {};
  for (const name of names) {
    lines[name] = counts.get(name)!.map((n, i) => (totals[i]! > 0 ? (n * 100) / totals[i]! : null));
    samples[name] = counts.get(name)!;
  }
  return {
    id: 'versions',
    title: 'Requests per config version',
    unit: '%',
    threshold: {
      value: minPropagationPercent,
      failsWhen: 'below',
      label: `a step bakes once ${minPropagationPercent} % serve it`,
    },
    lines,
    samples,
    ...(names.length === 0 ? { empty: 'no traffic in the window' } : {}),
  };
}

/**
 * Per isolate: dataset and window → the read in flight or done, when it started, and the config
 * version it was read under (a write, such as an abort, makes the next viewer read afresh).
 */
const cache = new Map<
  string,
  { at: number; version: number; read: Promise<QueryRows | { error: string }> }
>();
type QueryRows = { cohortRows: CohortMinute[]; versionRows: VersionMinute[] };

async function readRows(
  sql: AnalyticsSqlClient,
  dataset: string,
  minutes: number,
): Promise<QueryRows | { error: string }> {
  const [cohorts, traffic] = await Promise.all([
    sql.query(cohortMinutesQuery({ dataset, lastMinutes: minutes })),
    sql.query(trafficSplitQuery({ dataset, window: { lastMinutes: minutes } })),
  ]);
  if (!cohorts.ok) return { error: cohorts.error };
  if (!traffic.ok) return { error: traffic.error };
  const cohortRows = z.array(CohortMinuteSchema).safeParse(cohorts.rows);
  const versionRows = z.array(VersionMinuteSchema).safeParse(traffic.rows);
  if (!cohortRows.success) return { error: `SQL API row malformed: ${describeIssues(cohortRows.error)[0]}` };
  if (!versionRows.success)
    return { error: `SQL API row malformed: ${describeIssues(versionRows.error)[0]}` };
  return { cohortRows: cohortRows.data, versionRows: versionRows.data };
}

/**
 * The route's handler. Without the guard's SQL settings it answers `available: false` with the
 * reason and what to set, so the page says why instead of drawing empty axes.
 */
export function seriesHandler(
  deps: Pick<ControlDeps, 'control' | 'clock'> & { fetch: SqlFetch },
): Handler<AdminEnv> {
  return async function readSeries(c) {
    const query = SeriesQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new AdminError(400, 'invalid query', describeIssues(query.error));
    const minutes = query.data.minutes ?? 60;
    const guard = parseGuardSettings((c.env ?? {}) as Record<string, unknown>);
    if (!guard.enabled) return c.json({ available: false, reason: `guard not configured: ${guard.reason}` });
    const [state, audit] = await Promise.all([deps.control.state(), deps.control.audit(100, undefined)]);
    if ('ok' in state) throw new AdminError(state.status, state.error);
    const now = deps.clock.now();
    const key = `${guard.settings.dataset}:${minutes}`;
    let entry = cache.get(key);
    if (!entry || entry.version !== state.version || now - entry.at >= SERIES_CACHE_MS) {
      const sql = createAnalyticsSqlClient({ ...guard.settings.sql, fetch: deps.fetch, timeoutMs: 8_000 });
      entry = { at: now, version: state.version, read: readRows(sql, guard.settings.dataset, minutes) };
      cache.set(key, entry);
    }
    const rows = await entry.read;
    if ('error' in rows) {
      cache.delete(key);
      return c.json({ available: false, reason: `the SQL API could not be read: ${rows.error}` });
    }
    const body = shapeSeries({
      nowSeconds: Math.floor(entry.at / 1000),
      minutes,
      ...rows,
      config: state.config,
      audit: 'ok' in audit ? [] : audit.entries,
    });
    return c.json({
      ...body,
      readAt: new Date(entry.at).toISOString(),
      incident: state.incident,
      verdict: state.verdict,
    });
  };
}

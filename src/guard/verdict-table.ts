import * as z from 'zod/mini';
import type { GuardPolicy, Thresholds } from './guard-settings';
import { errorRateRow, p95Row, shareRow, srmRow, type Row } from './metric-rows';
import type { SampleRatio } from './sample-ratio';

/**
 * A metric's class: `fail` breaks its threshold (the exact test rejects "within the threshold"),
 * `pass` does not on enough samples to have caught a breach, `underpowered` does not on too few
 * samples to say so ("inconclusive (underpowered): needs N more"), `nodata` had no samples at all.
 * Neither of the last two is ever a failure by itself.
 */
export const MetricClassSchema = z.enum(['pass', 'fail', 'underpowered', 'nodata']);

/** One row of the verdict table. */
export const MetricRowSchema = z.object({
  /** `errorRate`, `p95`, `emailDelivery`, `uploadFailure`, `srm` or `route:<name>`. */
  metric: z.string(),
  /** The canary's value (percent, ms, or the observed canary share for `srm`); null without data. */
  canary: z.nullable(z.number()),
  /** Stable's value for comparison (the configured canary share for `srm`); null without data. */
  stable: z.nullable(z.number()),
  threshold: z.number(),
  /** The canary fails when its value is on this side of the threshold (`srm`: its p-value). */
  failsWhen: z.enum(['above', 'below']),
  unit: z.enum(['%', 'ms', 'p']),
  /** The samples the canary's value rests on (requests, outcomes). */
  samples: z.number().check(z.gte(0)),
  class: MetricClassSchema,
  /** Reported, never acted on. */
  dryRun: z.boolean(),
  /** The judgement in words. */
  message: z.string(),
  /** The exact test's p-value (the smaller over the windows judged); absent in older records. */
  pValue: z.optional(z.number()),
  /** Stored samples still needed before a pass means something (an `underpowered` row). */
  needs: z.optional(z.number().check(z.gte(0))),
});

/** One metric's line. */
export type MetricRow = z.infer<typeof MetricRowSchema>;

/** Business outcomes of one route and cohort: weighted counts, and the stored ones the test uses. */
export interface RouteOutcome {
  succeeded: number;
  failed: number;
  /** Stored (unsampled) outcomes; absent, the weighted counts stand in. */
  storedSucceeded?: number;
  storedFailed?: number;
}

/** One cohort's counts over a window, as the SQL API answers them and the table reads them. */
export interface TableCohort {
  /** Proxied requests (business events excluded). */
  requests: number;
  /** Requests that ended in a 5xx, no response, or (for the canary) a failover to stable. */
  errors: number;
  /** 95th percentile of total request time, in ms; 0 when there were no requests. */
  p95Ms: number;
  emailDelivered: number;
  emailFailed: number;
  uploadsOk: number;
  uploadsFailed: number;
  /** Stored request rows. */
  storedRequests: number;
  /** Stored rows of failed requests. */
  storedErrors: number;
  /** Stored rows of requests slower than `maxP95Ms` (the p95 row's "bad" share, at most 5 %). */
  storedSlow: number;
  /** Stored email and upload outcomes (occurrences, not weighted by sampling). */
  storedEmailDelivered: number;
  storedEmailFailed: number;
  storedUploadsOk: number;
  storedUploadsFailed: number;
}

/** Both cohorts over one window. */
export interface TableWindow {
  canary: TableCohort;
  stable: TableCohort;
  /** Per business route and cohort, when route thresholds are set. */
  routes?: Record<string, { canary: RouteOutcome; stable: RouteOutcome }>;
}

/** What the table is built from: the recent window, and the whole step when it is longer. */
export interface TableInput extends TableWindow {
  srm?: SampleRatio;
  /** The window since the step began, judged too when it reaches further back than the recent one. */
  sinceStep?: TableWindow & { window: string };
}

/**
 * Builds the verdict table: one row per metric with the canary's value, stable's, the threshold,
 * the samples and a class. Each share (errors, requests slower than `maxP95Ms`, failed emails,
 * failed uploads, failed route outcomes) is judged by a one-sided exact binomial test on stored
 * rows, on the recent window and on the whole step: a breach when either rejects "within the
 * threshold" at {@link GUARD_ALPHA}. Without a breach, a row whose larger window has fewer samples
 * than the test needs to catch twice the allowed share (with 90 % power) is `underpowered`.
 *
 * @example
 * const rows = verdictTable(input, thresholds, policy, 'last 5 min');
 * rows.filter((row) => row.class === 'fail' && !row.dryRun); // what a breach acts on
 */
export function verdictTable(
  input: TableInput,
  t: Thresholds,
  policy: GuardPolicy,
  window: string,
): MetricRow[] {
  const windows: (TableWindow & { window: string })[] = [{ ...input, window }];
  if (input.sinceStep) windows.push(input.sinceStep);
  const dry = (metric: string) => policy.dryRun.includes(metric);
  const allowedErrors = (w: TableWindow) => {
    const stable =
      w.stable.storedRequests >= t.minRequests ? w.stable.storedErrors / w.stable.storedRequests : 0;
    return Math.max(t.maxErrorRatePercent / 100, stable + t.stableMarginPercent / 100);
  };
  const rows: Row[] = [
    errorRateRow(input, windows, allowedErrors, t),
    p95Row(input, windows, t),
    shareRow({
      metric: 'emailDelivery',
      label: 'email delivery',
      windows,
      counts: (c) => [c.storedEmailDelivered, c.storedEmailFailed],
      weighted: (c) => [c.emailDelivered, c.emailFailed],
      threshold: t.minEmailDeliveryPercent,
      good: true,
      floor: t.minOutcomeSamples,
      noun: 'emails',
    }),
    shareRow({
      metric: 'uploadFailure',
      label: 'upload failures',
      windows,
      counts: (c) => [c.storedUploadsFailed, c.storedUploadsOk],
      weighted: (c) => [c.uploadsFailed, c.uploadsOk],
      threshold: t.maxUploadFailurePercent,
      good: false,
      floor: t.minOutcomeSamples,
      noun: 'uploads',
    }),
    ...Object.entries(policy.routes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([route, minSuccess]) => {
        const none: RouteOutcome = { succeeded: 0, failed: 0 };
        const of = (w: TableWindow, cohort: 'canary' | 'stable') => w.routes?.[route]?.[cohort] ?? none;
        return shareRow({
          metric: `route:${route}`,
          label: `${route} success`,
          windows,
          counts: (_c, w, cohort) => {
            const o = of(w, cohort);
            return [o.storedSucceeded ?? o.succeeded, o.storedFailed ?? o.failed];
          },
          weighted: (_c, w, cohort) => [of(w, cohort).succeeded, of(w, cohort).failed],
          threshold: minSuccess,
          good: true,
          floor: t.minOutcomeSamples,
          noun: 'outcomes',
        });
      }),
  ];
  if (input.srm) rows.push(srmRow(input.srm));
  return rows.map((row) => ({ ...row, dryRun: dry(row.metric) }));
}

/** The overall verdict the table implies. */
export type TableVerdict =
  | { status: 'breach'; failing: MetricRow[] }
  | { status: 'inconclusive'; reason: string }
  | { status: 'healthy' };

/**
 * Derives the overall verdict: `breach` when a row that acts fails (an SRM acts this way only
 * with `srmAction: abort`); `inconclusive` when the error rate or the latency row is
 * underpowered (too few requests to have caught a breach), or the split does not match its
 * percent (the numbers cannot be trusted); else `healthy`. An underpowered business row is shown
 * but does not hold the verdict: a launch with few emails would otherwise never be healthy.
 */
export function overallVerdict(rows: readonly MetricRow[], policy: GuardPolicy): TableVerdict {
  const acting = rows.filter((row) => !row.dryRun);
  const failing = acting.filter(
    (row) => row.class === 'fail' && (row.metric !== 'srm' || policy.srmAction === 'abort'),
  );
  if (failing.length > 0) return { status: 'breach', failing };
  const thin = rows.find(
    (row) =>
      (row.metric === 'errorRate' || row.metric === 'p95') && row.class !== 'pass' && row.class !== 'fail',
  );
  if (thin) return { status: 'inconclusive', reason: thin.message };
  const srm = acting.find((row) => row.metric === 'srm' && row.class === 'fail');
  if (srm) return { status: 'inconclusive', reason: `sample ratio mismatch: ${srm.message}` };
  return { status: 'healthy' };
}

/**
 * The table as aligned text lines (CLI, webhook). `—` marks a missing value; `(dry run)` a row
 * that never acts; an underpowered row says how many more samples it needs.
 *
 * @example
 * formatVerdictTable(record.table).join('\n');
 */
export function formatVerdictTable(rows: readonly MetricRow[]): string[] {
  const cells = rows.map((row) => [
    row.metric,
    formatValue(row.canary, row.unit === 'p' ? '%' : row.unit),
    formatValue(row.stable, row.unit === 'p' ? '%' : row.unit),
    `${row.failsWhen === 'above' ? '>' : '<'} ${row.unit === 'p' ? `p ${row.threshold}` : `${row.threshold} ${row.unit}`}`,
    String(Math.round(row.samples)),
    `${describeClass(row)}${row.dryRun ? ' (dry run)' : ''}`,
  ]);
  const header = ['metric', 'canary', 'stable', 'fails when', 'samples', 'class'];
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)];
}

/** A row's class in words: `inconclusive (underpowered): needs 2580 more` for an underpowered row. */
export function describeClass(row: Pick<MetricRow, 'class' | 'needs'>): string {
  if (row.class !== 'underpowered') return row.class;
  return `inconclusive (underpowered): needs ${row.needs ?? '?'} more`;
}

function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—';
  return unit === 'ms' ? `${Math.round(value)} ms` : `${value.toFixed(2)} %`;
}

/** `part` as a percent of `total`, or undefined when there is nothing to divide by. */
export function percent(part: number, total: number): number | undefined {
  return total > 0 ? (part / total) * 100 : undefined;
}

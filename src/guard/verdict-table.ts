import * as z from 'zod/mini';
import type { GuardPolicy, Thresholds } from './guard-settings';
import type { SampleRatio } from './traffic-split';

/**
 * A metric's class: `fail` breaks its threshold, `pass` does not, `nodata` had too few samples
 * to judge (never a failure by itself).
 */
export const MetricClassSchema = z.enum(['pass', 'fail', 'nodata']);

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
});

/** One metric's line. */
export type MetricRow = z.infer<typeof MetricRowSchema>;

/** Rates over fewer outcomes than this are `nodata`; see Thresholds.minOutcomeSamples. */
export interface RouteOutcome {
  succeeded: number;
  failed: number;
}

/** What the table is built from. */
export interface TableInput {
  canary: {
    requests: number;
    errors: number;
    p95Ms: number;
    emailDelivered: number;
    emailFailed: number;
    uploadsOk: number;
    uploadsFailed: number;
  };
  stable: TableInput['canary'];
  /** Per business route and cohort, when route thresholds are set. */
  routes?: Record<string, { canary: RouteOutcome; stable: RouteOutcome }>;
  srm?: SampleRatio;
}

/**
 * Builds the verdict table: one row per metric with the canary's value, stable's, the threshold,
 * the samples and a class. Below `minRequests` canary requests every row is `nodata`: a handful
 * of requests judges nothing.
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
  const enough = input.canary.requests >= t.minRequests;
  const dry = (metric: string) => policy.dryRun.includes(metric);
  const rows: Row[] = [
    errorRateRow(input, t, window),
    p95Row(input, t, window),
    rateRow({
      metric: 'emailDelivery',
      label: 'email delivery',
      canary: [input.canary.emailDelivered, input.canary.emailFailed],
      stable: [input.stable.emailDelivered, input.stable.emailFailed],
      threshold: t.minEmailDeliveryPercent,
      failsWhen: 'below',
      minSamples: t.minOutcomeSamples,
      noun: 'emails',
    }),
    rateRow({
      metric: 'uploadFailure',
      label: 'upload failures',
      canary: [input.canary.uploadsFailed, input.canary.uploadsOk],
      stable: [input.stable.uploadsFailed, input.stable.uploadsOk],
      threshold: t.maxUploadFailurePercent,
      failsWhen: 'above',
      minSamples: t.minOutcomeSamples,
      noun: 'uploads',
    }),
    ...Object.entries(policy.routes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([route, minSuccess]) => {
        const outcome = input.routes?.[route];
        const none: RouteOutcome = { succeeded: 0, failed: 0 };
        const c = outcome?.canary ?? none;
        const s = outcome?.stable ?? none;
        return rateRow({
          metric: `route:${route}`,
          label: `${route} success`,
          canary: [c.succeeded, c.failed],
          stable: [s.succeeded, s.failed],
          threshold: minSuccess,
          failsWhen: 'below',
          minSamples: t.minOutcomeSamples,
          noun: 'outcomes',
        });
      }),
  ];
  if (input.srm) rows.push(srmRow(input.srm));
  return rows.map((row) => {
    // The split test has its own minimum: a canary that receives nothing is a mismatch.
    const judged =
      enough || row.metric === 'srm'
        ? row
        : { ...row, class: 'nodata' as const, message: tooLittle(input, t) };
    return { ...judged, dryRun: dry(row.metric) };
  });
}

/** The overall verdict the table implies. */
export type TableVerdict =
  | { status: 'breach'; failing: MetricRow[] }
  | { status: 'inconclusive'; reason: string }
  | { status: 'healthy' };

/**
 * Derives the overall verdict: `breach` when a row that acts fails (an SRM acts this way only
 * with `srmAction: abort`); `inconclusive` when the canary had too little traffic or its split
 * does not match its percent (the numbers cannot be trusted); else `healthy`.
 */
export function overallVerdict(rows: readonly MetricRow[], policy: GuardPolicy): TableVerdict {
  const acting = rows.filter((row) => !row.dryRun);
  const failing = acting.filter(
    (row) => row.class === 'fail' && (row.metric !== 'srm' || policy.srmAction === 'abort'),
  );
  if (failing.length > 0) return { status: 'breach', failing };
  const errorRate = rows.find((row) => row.metric === 'errorRate');
  if (errorRate?.class === 'nodata') return { status: 'inconclusive', reason: errorRate.message };
  const srm = acting.find((row) => row.metric === 'srm' && row.class === 'fail');
  if (srm) return { status: 'inconclusive', reason: `sample ratio mismatch: ${srm.message}` };
  return { status: 'healthy' };
}

/**
 * The table as aligned text lines (CLI, webhook). `—` marks a missing value; `(dry run)` a row
 * that never acts.
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
    row.dryRun ? `${row.class} (dry run)` : row.class,
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

function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—';
  return unit === 'ms' ? `${Math.round(value)} ms` : `${value.toFixed(2)} %`;
}

function tooLittle(input: TableInput, t: Thresholds): string {
  return `too little canary traffic: ${Math.round(input.canary.requests)} requests in the window, ${t.minRequests} needed`;
}

type Row = Omit<MetricRow, 'dryRun'>;

function errorRateRow(input: TableInput, t: Thresholds, window: string): Row {
  const rate = percent(input.canary.errors, input.canary.requests) ?? 0;
  const stableRate = percent(input.stable.errors, input.stable.requests);
  const baseline = input.stable.requests >= t.minRequests ? (stableRate ?? 0) : 0;
  const fails = rate > t.maxErrorRatePercent && rate - baseline > t.stableMarginPercent;
  return {
    metric: 'errorRate',
    canary: rate,
    stable: input.stable.requests > 0 ? (stableRate ?? 0) : null,
    threshold: t.maxErrorRatePercent,
    failsWhen: 'above',
    unit: '%',
    samples: input.canary.requests,
    class: fails ? 'fail' : 'pass',
    message: fails
      ? `canary error rate ${pct(rate)} > ${t.maxErrorRatePercent} % over ${window} (stable ${pct(baseline)}, margin ${t.stableMarginPercent} points)`
      : `canary error rate ${pct(rate)} within ${t.maxErrorRatePercent} % or within ${t.stableMarginPercent} points of stable ${pct(baseline)}`,
  };
}

function p95Row(input: TableInput, t: Thresholds, window: string): Row {
  const p95 = input.canary.p95Ms;
  const fails = p95 > t.maxP95Ms;
  return {
    metric: 'p95',
    canary: p95,
    stable: input.stable.requests > 0 ? input.stable.p95Ms : null,
    threshold: t.maxP95Ms,
    failsWhen: 'above',
    unit: 'ms',
    samples: input.canary.requests,
    class: fails ? 'fail' : 'pass',
    message: `canary p95 ${Math.round(p95)} ms ${fails ? '>' : '≤'} ${t.maxP95Ms} ms over ${window}`,
  };
}

function rateRow(spec: {
  metric: string;
  label: string;
  /** [the counted part, the rest]. */
  canary: [number, number];
  stable: [number, number];
  threshold: number;
  failsWhen: 'above' | 'below';
  minSamples: number;
  noun: string;
}): Row {
  const samples = spec.canary[0] + spec.canary[1];
  const stableSamples = spec.stable[0] + spec.stable[1];
  const value = samples >= spec.minSamples ? (spec.canary[0] / samples) * 100 : null;
  const stable = stableSamples >= spec.minSamples ? (spec.stable[0] / stableSamples) * 100 : null;
  const base = {
    metric: spec.metric,
    canary: value,
    stable,
    threshold: spec.threshold,
    failsWhen: spec.failsWhen,
    unit: '%' as const,
    samples,
  };
  if (value === null)
    return {
      ...base,
      class: 'nodata',
      message: `${spec.label}: ${Math.round(samples)} ${spec.noun}, ${spec.minSamples} needed to judge`,
    };
  const fails = spec.failsWhen === 'above' ? value > spec.threshold : value < spec.threshold;
  const sign = fails ? (spec.failsWhen === 'above' ? '>' : '<') : spec.failsWhen === 'above' ? '≤' : '≥';
  return {
    ...base,
    class: fails ? 'fail' : 'pass',
    message: `canary ${spec.label} ${pct(value)} ${sign} ${spec.threshold} % (${Math.round(samples)} ${spec.noun})`,
  };
}

function srmRow(srm: SampleRatio): Row {
  return {
    metric: 'srm',
    canary: srm.observedCanaryPercent,
    stable: srm.expectedCanaryPercent,
    threshold: srm.threshold,
    failsWhen: 'below',
    unit: 'p',
    samples: srm.canary + srm.stable,
    class: srm.class,
    message: srm.note,
  };
}

/** `part` as a percent of `total`, or undefined when there is nothing to divide by. */
export function percent(part: number, total: number): number | undefined {
  return total > 0 ? (part / total) * 100 : undefined;
}

function pct(value: number): string {
  return `${value.toFixed(2)} %`;
}

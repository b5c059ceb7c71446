import * as z from 'zod/mini';
import type { Thresholds } from './guard-settings';
import type { StatsWindow } from './guard-ports';

/**
 * What the guard knows about one cohort over a window. Counts are already weighted by
 * Analytics Engine's `_sample_interval`, so they estimate real traffic, not stored rows.
 */
export interface CohortStats {
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
}

/** Both cohorts over the same window. */
export interface WindowStats {
  canary: CohortStats;
  stable: CohortStats;
}

/**
 * A cohort that sent nothing in the window.
 */
export const EMPTY_COHORT_STATS: Readonly<CohortStats> = Object.freeze({
  requests: 0,
  errors: 0,
  p95Ms: 0,
  emailDelivered: 0,
  emailFailed: 0,
  uploadsOk: 0,
  uploadsFailed: 0,
});

/**
 * Judges the canary against the launch thresholds and against stable. Pure: the same numbers
 * always give the same verdict.
 *
 * - Fewer canary requests than `minRequests`: `inconclusive` (neither advance nor abort).
 * - Error rate: a breach only when it is above `maxErrorRatePercent` *and* above stable's by
 *   more than `stableMarginPercent`, so a bad day for both is not blamed on the canary. Stable
 *   counts as a baseline only with at least `minRequests` of its own.
 * - p95 above `maxP95Ms`, email delivery below `minEmailDeliveryPercent`, upload failures above
 *   `maxUploadFailurePercent`. A business rate with fewer than `minOutcomeSamples` outcomes is
 *   not judged.
 *
 * @example
 * const verdict = analyzeCanary(stats, resolveThresholds(config.thresholds), 'last 5 min');
 * if (verdict.status === 'breach') console.log(verdict.reasons.map((r) => r.message));
 */
export function analyzeCanary(stats: WindowStats, thresholds: Thresholds, window: string): Verdict {
  const numbers = judgedNumbers(stats, thresholds, window);
  if (stats.canary.requests < thresholds.minRequests) {
    return {
      status: 'inconclusive',
      reason: `too little canary traffic: ${formatCount(stats.canary.requests)} requests in the window, ${thresholds.minRequests} needed`,
      numbers,
    };
  }
  const reasons = [
    errorRateBreach(numbers, thresholds),
    p95Breach(numbers, thresholds),
    emailBreach(numbers, thresholds),
    uploadBreach(numbers, thresholds),
  ].filter((reason): reason is BreachReason => reason !== undefined);
  return reasons.length > 0 ? { status: 'breach', reasons, numbers } : { status: 'healthy', numbers };
}

/**
 * Describes a window in words, for verdicts and notifications.
 *
 * @example
 * describeWindow({ lastMinutes: 5 }); // 'last 5 min'
 */
export function describeWindow(window: StatsWindow): string {
  return 'lastMinutes' in window
    ? `last ${window.lastMinutes} min`
    : `since ${new Date(window.sinceEpochSeconds * 1000).toISOString()}`;
}

function judgedNumbers(stats: WindowStats, thresholds: Thresholds, window: string): JudgedNumbers {
  const { canary, stable } = stats;
  const stableRate = percent(stable.errors, stable.requests) ?? 0;
  return {
    window,
    canary: {
      requests: canary.requests,
      errors: canary.errors,
      errorRatePercent: percent(canary.errors, canary.requests) ?? 0,
      p95Ms: canary.p95Ms,
      emailSamples: canary.emailDelivered + canary.emailFailed,
      emailDeliveryPercent: judgedRate(canary.emailDelivered, canary.emailFailed, thresholds),
      uploadSamples: canary.uploadsOk + canary.uploadsFailed,
      uploadFailurePercent: judgedRate(canary.uploadsFailed, canary.uploadsOk, thresholds),
    },
    stable: {
      requests: stable.requests,
      errorRatePercent: stableRate,
      baselineErrorRatePercent: hasBaseline(stable, thresholds) ? stableRate : 0,
    },
    thresholds: { ...thresholds },
  };
}

function errorRateBreach(numbers: JudgedNumbers, t: Thresholds): BreachReason | undefined {
  const rate = numbers.canary.errorRatePercent;
  const baseline = numbers.stable.baselineErrorRatePercent;
  if (rate <= t.maxErrorRatePercent || rate - baseline <= t.stableMarginPercent) return undefined;
  return {
    metric: 'errorRate',
    value: rate,
    threshold: t.maxErrorRatePercent,
    message: `canary error rate ${formatPercent(rate)} > ${t.maxErrorRatePercent} % over ${numbers.window} (stable ${formatPercent(baseline)}, margin ${t.stableMarginPercent} points)`,
  };
}

function p95Breach(numbers: JudgedNumbers, t: Thresholds): BreachReason | undefined {
  const p95 = numbers.canary.p95Ms;
  if (p95 <= t.maxP95Ms) return undefined;
  return {
    metric: 'p95',
    value: p95,
    threshold: t.maxP95Ms,
    message: `canary p95 ${Math.round(p95)} ms > ${t.maxP95Ms} ms over ${numbers.window}`,
  };
}

function emailBreach(numbers: JudgedNumbers, t: Thresholds): BreachReason | undefined {
  const delivery = numbers.canary.emailDeliveryPercent;
  if (delivery === null || delivery >= t.minEmailDeliveryPercent) return undefined;
  return {
    metric: 'emailDelivery',
    value: delivery,
    threshold: t.minEmailDeliveryPercent,
    message: `canary email delivery ${formatPercent(delivery)} < ${t.minEmailDeliveryPercent} % (${formatCount(numbers.canary.emailSamples)} emails)`,
  };
}

function uploadBreach(numbers: JudgedNumbers, t: Thresholds): BreachReason | undefined {
  const failure = numbers.canary.uploadFailurePercent;
  if (failure === null || failure <= t.maxUploadFailurePercent) return undefined;
  return {
    metric: 'uploadFailure',
    value: failure,
    threshold: t.maxUploadFailurePercent,
    message: `canary upload failures ${formatPercent(failure)} > ${t.maxUploadFailurePercent} % (${formatCount(numbers.canary.uploadSamples)} uploads)`,
  };
}

/** `part` as a percent of `part + rest`, or null below the sample minimum. */
function judgedRate(part: number, rest: number, t: Thresholds): number | null {
  const total = part + rest;
  return total < t.minOutcomeSamples ? null : (part / total) * 100;
}

function hasBaseline(stable: CohortStats, t: Thresholds): boolean {
  return stable.requests >= t.minRequests;
}

function percent(part: number, total: number): number | undefined {
  return total > 0 ? (part / total) * 100 : undefined;
}

function formatPercent(value: number): string {
  return `${value.toFixed(2)} %`;
}

function formatCount(value: number): string {
  return String(Math.round(value));
}

const count = z.number().check(z.gte(0));

/** The metrics a breach can be about. */
export const BreachMetricSchema = z.enum(['errorRate', 'p95', 'emailDelivery', 'uploadFailure']);

/** One broken threshold, with the value that broke it. */
export const BreachReasonSchema = z.object({
  metric: BreachMetricSchema,
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
});

/** The numbers a verdict was reached from, so a reader can check the judgement by hand. */
export const JudgedNumbersSchema = z.object({
  /** The window judged, in words (`last 5 min`, `since 2026-11-25T12:00:00.000Z`). */
  window: z.string(),
  canary: z.object({
    requests: count,
    errors: count,
    errorRatePercent: z.number(),
    p95Ms: z.number(),
    emailSamples: count,
    /** Null when too few email outcomes were seen to judge. */
    emailDeliveryPercent: z.nullable(z.number()),
    uploadSamples: count,
    /** Null when too few uploads were seen to judge. */
    uploadFailurePercent: z.nullable(z.number()),
  }),
  stable: z.object({
    requests: count,
    errorRatePercent: z.number(),
    /** The stable error rate the canary was compared with (0 when stable had too little traffic). */
    baselineErrorRatePercent: z.number(),
  }),
  thresholds: z.record(z.string(), z.number()),
});

const healthyShape = { status: z.literal('healthy'), numbers: JudgedNumbersSchema };
const breachShape = {
  status: z.literal('breach'),
  reasons: z.array(BreachReasonSchema).check(z.minLength(1)),
  numbers: JudgedNumbersSchema,
};
const inconclusiveShape = {
  status: z.literal('inconclusive'),
  reason: z.string(),
  numbers: JudgedNumbersSchema,
};
/** The data could not be read (API error, timeout, malformed answer): nothing can be judged. */
const unknownShape = { status: z.literal('unknown'), reason: z.string() };

/** The outcome of judging one window. */
export const VerdictSchema = z.discriminatedUnion('status', [
  z.object(healthyShape),
  z.object(breachShape),
  z.object(inconclusiveShape),
]);

/** The verdict when the data could not be read. */
export const UnknownVerdictSchema = z.object(unknownShape);

/** What the guard did about a verdict. */
export const GuardActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none'), why: z.string() }),
  z.object({ type: z.literal('aborted'), version: z.int() }),
  z.object({ type: z.literal('abort-failed'), error: z.string() }),
  z.object({ type: z.literal('advanced'), from: z.number(), to: z.number(), version: z.int() }),
  z.object({ type: z.literal('advance-failed'), to: z.number(), error: z.string() }),
]);

/** Where the step schedule stands, when one is configured. */
export const ScheduleStatusSchema = z.object({
  current: z.number(),
  /** The next step, or null when the schedule is done. */
  next: z.nullable(z.number()),
  /** When the current step has baked long enough (null when unknown). */
  bakeEndsAt: z.nullable(z.string()),
  note: z.string(),
});

const run = {
  at: z.iso.datetime(),
  action: GuardActionSchema,
  schedule: z.optional(ScheduleStatusSchema),
};

/**
 * The KV value under `guard:verdict`: the latest verdict, when it was reached, and what the guard
 * did. The admin `GET /state` and the CLI's status show it as is.
 */
export const GuardVerdictRecordSchema = z.discriminatedUnion('status', [
  z.object({ ...healthyShape, ...run }),
  z.object({ ...breachShape, ...run }),
  z.object({ ...inconclusiveShape, ...run }),
  z.object({ ...unknownShape, ...run }),
]);

export type BreachMetric = z.infer<typeof BreachMetricSchema>;
export type BreachReason = z.infer<typeof BreachReasonSchema>;
export type JudgedNumbers = z.infer<typeof JudgedNumbersSchema>;
/** `healthy`, `breach` (with reasons) or `inconclusive` (with why), each with its numbers. */
export type Verdict = z.infer<typeof VerdictSchema>;
/** A verdict, or `unknown` when the data could not be read. */
export type GuardVerdict = Verdict | z.infer<typeof UnknownVerdictSchema>;
export type GuardAction = z.infer<typeof GuardActionSchema>;
export type ScheduleStatus = z.infer<typeof ScheduleStatusSchema>;
export type GuardVerdictRecord = z.infer<typeof GuardVerdictRecordSchema>;

import * as z from 'zod/mini';
import { resolveGuardPolicy, type GuardPolicy, type Thresholds } from './guard-settings';
import type { StatsWindow } from './guard-ports';
import { SampleRatioSchema, type SampleRatio } from './sample-ratio';
import { PropagationSchema, VersionShareSchema, type TrafficRow } from './traffic-split';
import {
  MetricRowSchema,
  overallVerdict,
  percent,
  verdictTable,
  type TableCohort,
  type TableInput,
} from './verdict-table';

/**
 * What the guard knows about one cohort over a window, twice: the first counts are weighted by
 * Analytics Engine's `_sample_interval`, so they estimate real traffic (what the table shows);
 * the `stored` counts are the rows actually kept, the sample the exact tests judge (a weighted
 * count would claim more evidence than was seen).
 */
export type CohortStats = TableCohort;

/** Both cohorts over the same window. */
export interface WindowStats {
  canary: CohortStats;
  stable: CohortStats;
  /** Requests per minute, config version, Worker version and cohort (SRM, propagation). */
  traffic?: TrafficRow[];
  /** Business outcomes per route and cohort (read when the launch sets route thresholds). */
  routes?: TableInput['routes'];
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
  storedRequests: 0,
  storedErrors: 0,
  storedSlow: 0,
  storedEmailDelivered: 0,
  storedEmailFailed: 0,
  storedUploadsOk: 0,
  storedUploadsFailed: 0,
});

/** What {@link analyzeCanary} may take into account beyond the two cohorts' stats. */
export interface AnalysisExtras {
  /** The launch's policy (dry-run metrics, route thresholds, SRM action); defaults when absent. */
  policy?: GuardPolicy;
  /** The window's sample-ratio test. */
  srm?: SampleRatio;
  /**
   * The whole step, when it began before the recent window: judged too, so a breach too small to
   * show in five minutes shows over the step, and a pass on it counts toward the needed sample.
   */
  sinceStep?: { stats: WindowStats; window: string };
}

/**
 * Judges the canary against the launch thresholds and against stable. Pure: the same numbers
 * always give the same verdict. The verdict carries the per-metric table it was derived from
 * ({@link verdictTable}, {@link overallVerdict}):
 *
 * - Every metric is a share of bad outcomes judged by a one-sided exact binomial test on stored
 *   rows, over the recent window and over the whole step (`sinceStep`): a breach when the test
 *   rejects "within the threshold" at `GUARD_ALPHA` (0.001) on either.
 * - Error rate: the threshold is max(`maxErrorRatePercent`, stable + `stableMarginPercent`), so a
 *   bad day for both is not blamed on the canary. Stable counts as a baseline only with at least
 *   `minRequests` stored requests of its own.
 * - p95: at most 5 % of requests slower than `maxP95Ms`. Email delivery, upload failures, route
 *   success: their thresholds as shares of outcomes.
 * - Without a breach, a row with fewer samples than the test needs to catch twice its allowed
 *   share (90 % power; at least `minRequests` / `minOutcomeSamples`) is underpowered; an
 *   underpowered error-rate or p95 row makes the verdict `inconclusive`.
 * - A sample-ratio mismatch makes the verdict `inconclusive` (or a breach with `srmAction: abort`).
 * - A dry-run metric is judged and shown but never decides the verdict.
 *
 * @example
 * const verdict = analyzeCanary(stats, resolveThresholds(config.thresholds), 'last 5 min');
 * if (verdict.status === 'breach') console.log(verdict.reasons.map((r) => r.message));
 */
export function analyzeCanary(
  stats: WindowStats,
  thresholds: Thresholds,
  window: string,
  extras: AnalysisExtras = {},
): Verdict {
  const policy = extras.policy ?? resolveGuardPolicy(undefined);
  const numbers = judgedNumbers(stats, thresholds, window);
  const table = verdictTable(
    {
      canary: stats.canary,
      stable: stats.stable,
      routes: stats.routes,
      srm: extras.srm,
      ...(extras.sinceStep
        ? { sinceStep: { ...extras.sinceStep.stats, window: extras.sinceStep.window } }
        : {}),
    },
    thresholds,
    policy,
    window,
  );
  const overall = overallVerdict(table, policy);
  if (overall.status === 'breach') {
    const reasons = overall.failing.map((row) => ({
      metric: row.metric,
      value: row.canary ?? 0,
      threshold: row.threshold,
      message: row.message,
    }));
    return { status: 'breach', reasons, numbers, table };
  }
  if (overall.status === 'inconclusive')
    return { status: 'inconclusive', reason: overall.reason, numbers, table };
  return { status: 'healthy', numbers, table };
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
      baselineErrorRatePercent: stable.requests >= thresholds.minRequests ? stableRate : 0,
    },
    thresholds: { ...thresholds },
  };
}

/** `part` as a percent of `part + rest`, or null below the sample minimum. */
function judgedRate(part: number, rest: number, t: Thresholds): number | null {
  const total = part + rest;
  return total < t.minOutcomeSamples ? null : (part / total) * 100;
}

const count = z.number().check(z.gte(0));

/** The metric a breach is about: `errorRate`, `p95`, `emailDelivery`, `uploadFailure`, `srm`, `route:<name>`. */
export const BreachMetricSchema = z.string();

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

/** The per-metric table a verdict was derived from (absent in records written before it existed). */
const table = z.optional(z.array(MetricRowSchema));
const healthyShape = { status: z.literal('healthy'), numbers: JudgedNumbersSchema, table };
const breachShape = {
  status: z.literal('breach'),
  reasons: z.array(BreachReasonSchema).check(z.minLength(1)),
  numbers: JudgedNumbersSchema,
  table,
};
const inconclusiveShape = {
  status: z.literal('inconclusive'),
  reason: z.string(),
  numbers: JudgedNumbersSchema,
  table,
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
  z.object({ type: z.literal('paused'), version: z.int(), why: z.string() }),
  z.object({ type: z.literal('pause-failed'), error: z.string(), why: z.string() }),
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

/** Consecutive verdicts of a kind, counted across runs (what advancing and pausing wait for). */
export const GuardStreakSchema = z.object({
  healthy: z.int().check(z.gte(0)),
  inconclusive: z.int().check(z.gte(0)),
  /** The step they were counted on (`rollout.stepStartedAt`); a new step starts from zero. */
  stepStartedAt: z.nullable(z.string()),
});

const run = {
  at: z.iso.datetime(),
  action: GuardActionSchema,
  schedule: z.optional(ScheduleStatusSchema),
  /** The config version judged. */
  configVersion: z.optional(z.int()),
  streak: z.optional(GuardStreakSchema),
  /** The sample-ratio test of the window. */
  srm: z.optional(SampleRatioSchema),
  /** How far the step's config version has reached, and when its bake began. */
  propagation: z.optional(PropagationSchema),
  /** Each config version's share of the window's requests, largest first. */
  configVersions: z.optional(z.array(VersionShareSchema)),
  /** The Worker versions seen in the window (the `version` is the Worker version id). */
  workerVersions: z.optional(z.array(VersionShareSchema)),
  /** The Worker version the analysis was restricted to, when the launch sets one. */
  workerVersion: z.optional(z.string()),
  /** The SQL sent for this verdict, so anyone can run it again. */
  sql: z.optional(z.array(z.string())),
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
export type GuardStreak = z.infer<typeof GuardStreakSchema>;

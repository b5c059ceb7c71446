import * as z from 'zod/mini';

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

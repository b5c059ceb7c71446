import * as z from 'zod/mini';

/**
 * The launch thresholds. This object is the single source for the guard, the alert rules in
 * monitoring/alerts and the thresholds table in docs/GUARD.md.
 */
export const DEFAULT_THRESHOLDS = {
  /** Abort when the canary's error rate exceeds this percent over the window. */
  maxErrorRatePercent: 1,
  /** The error-rate window, in minutes. */
  errorWindowMinutes: 5,
  /** Abort when the canary's p95 latency exceeds this many milliseconds. */
  maxP95Ms: 2000,
  /** Abort when email delivery success falls below this percent. */
  minEmailDeliveryPercent: 90,
  /** Abort when file-upload failures exceed this percent. */
  maxUploadFailurePercent: 5,
  /** Below this many canary requests in the window the verdict is inconclusive. */
  minRequests: 50,
  /** The canary's error rate must also exceed stable's by this many points to count as a breach. */
  stableMarginPercent: 0.5,
  /** Email delivery and upload rates built on fewer outcomes than this are not judged. */
  minOutcomeSamples: 10,
} as const;

/** Per-launch overrides of {@link DEFAULT_THRESHOLDS}; every field is optional. */
export const ThresholdsSchema = z.strictObject({
  maxErrorRatePercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  errorWindowMinutes: z.optional(z.int().check(z.gte(1), z.lte(60))),
  maxP95Ms: z.optional(z.number().check(z.gt(0), z.lte(600_000))),
  minEmailDeliveryPercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  maxUploadFailurePercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  minRequests: z.optional(z.int().check(z.gte(1), z.lte(10_000_000))),
  stableMarginPercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  minOutcomeSamples: z.optional(z.int().check(z.gte(1), z.lte(10_000_000))),
});

/** Thresholds with every field resolved. */
export type Thresholds = { -readonly [K in keyof typeof DEFAULT_THRESHOLDS]: number };

/** Merges per-launch overrides over the defaults. */
export function resolveThresholds(overrides: z.infer<typeof ThresholdsSchema> | undefined): Thresholds {
  return { ...DEFAULT_THRESHOLDS, ...stripUndefined(overrides ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

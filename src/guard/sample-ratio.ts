import * as z from 'zod/mini';
import { fOneTail } from './exact-tests';

/**
 * GrowthBook's minimum count per variation for its SRM check. Applied here to the *expected*
 * count, so a cohort that receives nothing at all is still a mismatch, not a lack of data.
 */
export const SRM_MIN_EXPECTED_PER_COHORT = 8;

/**
 * Looks in a row whose p-value must be below the threshold before the split counts as a
 * mismatch: the guard looks every minute, and one unlucky look an hour is not a broken split.
 */
export const SRM_CONSECUTIVE_LOOKS = 2;

/** Minutes with traffic the split test needs: the per-visitor spread is estimated across them. */
export const SRM_MIN_MINUTES = 3;

const count = z.number().check(z.gte(0));

/** The sample-ratio test of one window, as stored with the verdict. */
export const SampleRatioSchema = z.object({
  class: z.enum(['pass', 'fail', 'nodata']),
  /** Stored requests per assigned cohort at the current config version, failovers included. */
  canary: count,
  stable: count,
  expectedCanaryPercent: z.number(),
  /** Null without requests. */
  observedCanaryPercent: z.nullable(z.number()),
  chiSquared: z.nullable(z.number()),
  pValue: z.nullable(z.number()),
  /** The p-value below which the split is a mismatch. */
  threshold: z.number(),
  note: z.string(),
  /**
   * How much more the counts vary from minute to minute than independent requests would (a
   * visitor makes several requests, all in one cohort); the chi-squared is divided by it.
   */
  dispersion: z.optional(z.number()),
  /** Consecutive looks (this one included) whose p-value was below the threshold. */
  mismatches: z.optional(z.int().check(z.gte(0))),
});

/** A sample-ratio test result. */
export type SampleRatio = z.infer<typeof SampleRatioSchema>;

/** The split test's counts: the window's totals per cohort, and the same per minute. */
export interface SplitCounts {
  canary: number;
  stable: number;
  /** Per minute, for the dispersion (at least {@link SRM_MIN_MINUTES} with traffic to test at all). */
  minutes?: readonly { canary: number; stable: number }[];
}

/**
 * The sample-ratio test: is the canary getting the share its percent promises? Pearson's
 * chi-squared of the two cohorts' counts against the configured split (one degree of freedom),
 * corrected for two things a request count gets wrong:
 *
 * - **Several requests per visitor.** The split is per visitor, so requests arrive in clumps of
 *   one cohort and vary more than independent draws. The excess is estimated from the
 *   minute-to-minute spread of the canary's share around its own mean (Pearson's dispersion,
 *   minutes − 1 degrees of freedom); the chi-squared is divided by it (never by less than 1) and
 *   read against F(1, minutes − 1), which allows for the estimate's own noise.
 * - **Repeated looks.** A mismatch needs p < `threshold` on {@link SRM_CONSECUTIVE_LOOKS} looks in
 *   a row: `previousMismatches` is the count the previous run stored for the same config version.
 *
 * Too little traffic for either cohort's expected count to reach {@link SRM_MIN_EXPECTED_PER_COHORT},
 * or a split with nothing to compare (0 % or 100 %), is `nodata`.
 *
 * @example
 * sampleRatioTest({ canary: 5000, stable: 5600 }, 50, 0.001, 1).class; // 'fail' (χ² 33.96, second look)
 */
export function sampleRatioTest(
  counts: SplitCounts,
  expectedCanaryPercent: number,
  threshold: number,
  previousMismatches = 0,
): SampleRatio {
  const total = counts.canary + counts.stable;
  const share = expectedCanaryPercent / 100;
  const base = {
    canary: counts.canary,
    stable: counts.stable,
    expectedCanaryPercent,
    observedCanaryPercent: total > 0 ? (counts.canary / total) * 100 : null,
    threshold,
  };
  const smallestExpected = total * Math.min(share, 1 - share);
  const spread = dispersionOf(counts.minutes);
  if (share <= 0 || share >= 1 || smallestExpected < SRM_MIN_EXPECTED_PER_COHORT || !spread)
    return {
      ...base,
      class: 'nodata',
      chiSquared: null,
      pValue: null,
      mismatches: 0,
      note:
        share <= 0 || share >= 1
          ? `no split to test at ${expectedCanaryPercent} %`
          : smallestExpected < SRM_MIN_EXPECTED_PER_COHORT
            ? `too few requests at the current config version (${Math.round(total)}) for a split test`
            : `too few minutes with traffic at the current config version for a split test (${SRM_MIN_MINUTES} needed)`,
    };
  const expectedCanary = total * share;
  const expectedStable = total - expectedCanary;
  const chiSquared =
    (counts.canary - expectedCanary) ** 2 / expectedCanary +
    (counts.stable - expectedStable) ** 2 / expectedStable;
  // F(1, minutes − 1) even when the spread looks independent: the estimate itself is noisy.
  const dispersion = Math.max(1, spread.dispersion);
  const pValue = fOneTail(chiSquared / dispersion, spread.degrees);
  const mismatches = pValue < threshold ? previousMismatches + 1 : 0;
  const observed = `${Math.round(counts.canary)} canary of ${Math.round(total)} (${base.observedCanaryPercent!.toFixed(2)} %, expected ${expectedCanaryPercent} %)`;
  const corrected = dispersion > 1 ? `, dispersion ${dispersion.toFixed(2)}` : '';
  const looks =
    mismatches === 0
      ? ''
      : mismatches < SRM_CONSECUTIVE_LOOKS
        ? `; look ${mismatches} of ${SRM_CONSECUTIVE_LOOKS} below ${threshold}, not yet a mismatch`
        : `; ${mismatches} looks in a row below ${threshold}`;
  return {
    ...base,
    class: mismatches >= SRM_CONSECUTIVE_LOOKS ? 'fail' : 'pass',
    chiSquared,
    pValue,
    dispersion,
    mismatches,
    note: `${observed}: χ² ${chiSquared.toFixed(2)}${corrected}, p ${formatPValue(pValue)}${looks}`,
  };
}

// Pearson's dispersion of the per-minute canary share around the window's own share: 1 for
// independent requests, about the requests per visitor when visits are shorter than a minute.
// Needs SRM_MIN_MINUTES minutes with traffic; undefined below that.
function dispersionOf(
  minutes: readonly { canary: number; stable: number }[] | undefined,
): { dispersion: number; degrees: number } | undefined {
  const used = (minutes ?? []).filter((m) => m.canary + m.stable > 0);
  if (used.length < SRM_MIN_MINUTES) return undefined;
  const canary = used.reduce((sum, m) => sum + m.canary, 0);
  const total = used.reduce((sum, m) => sum + m.canary + m.stable, 0);
  const p = canary / total;
  // One cohort got nothing at all: there is no spread to estimate, and nothing for visitors to
  // clump; read χ² as for independent requests (a canary that receives nothing is the gross case).
  if (p <= 0 || p >= 1) return { dispersion: 1, degrees: 1e9 };
  let pearson = 0;
  for (const m of used) {
    const n = m.canary + m.stable;
    pearson += (m.canary - n * p) ** 2 / (n * p * (1 - p));
  }
  return { dispersion: pearson / (used.length - 1), degrees: used.length - 1 };
}

/**
 * The upper-tail probability of the chi-squared distribution with one degree of freedom:
 * P(X ≥ x) = erfc(√(x/2)).
 *
 * @example
 * chiSquaredPValue(10.828); // ≈ 0.001
 */
export function chiSquaredPValue(x: number): number {
  if (!(x > 0)) return 1;
  return erfc(Math.sqrt(x / 2));
}

/**
 * The complementary error function, a Chebyshev fit with fractional error below 1.2e-7 everywhere
 * (Numerical Recipes' erfcc): accurate in the far tail, where p-values of SRM tests live.
 *
 * @example
 * erfc(0); // 1
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** A p-value in words: `0.0031`, `< 1e-12`. */
export function formatPValue(p: number): string {
  if (p < 1e-12) return '< 1e-12';
  return p < 0.0001 ? p.toExponential(1) : p.toPrecision(2);
}

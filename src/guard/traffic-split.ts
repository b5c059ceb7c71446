import * as z from 'zod/mini';

/**
 * What the traffic-split query (src/metrics/queries.ts) returns, one row per minute, config
 * version, Worker version and assigned cohort. Counts are weighted by `_sample_interval`.
 */
export interface TrafficRow {
  /** The minute's start, in epoch seconds. */
  minute: number;
  configVersion: string;
  workerVersion: string;
  cohort: string;
  requests: number;
  /** Of `requests`, those a failed canary GET/HEAD replayed on stable. */
  failovers: number;
}

/**
 * GrowthBook's minimum count per variation for its SRM check. Applied here to the *expected*
 * count, so a cohort that receives nothing at all is still a mismatch, not a lack of data.
 */
export const SRM_MIN_EXPECTED_PER_COHORT = 8;

const count = z.number().check(z.gte(0));

/** The sample-ratio test of one window, as stored with the verdict. */
export const SampleRatioSchema = z.object({
  class: z.enum(['pass', 'fail', 'nodata']),
  /** Requests per assigned cohort at the current config version, failovers excluded. */
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
});

/** A sample-ratio test result. */
export type SampleRatio = z.infer<typeof SampleRatioSchema>;

/**
 * Pearson's chi-squared test of two cohorts against the configured split (one degree of
 * freedom): a mismatch when p < `threshold`. Too little traffic for either cohort's expected
 * count to reach {@link SRM_MIN_EXPECTED_PER_COHORT}, or a split with nothing to compare
 * (0 % or 100 %), is `nodata`.
 *
 * @example
 * sampleRatioTest({ canary: 5000, stable: 5600 }, 50, 0.001).class; // 'fail' (χ² 33.96)
 */
export function sampleRatioTest(
  counts: { canary: number; stable: number },
  expectedCanaryPercent: number,
  threshold: number,
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
  if (share <= 0 || share >= 1 || smallestExpected < SRM_MIN_EXPECTED_PER_COHORT)
    return {
      ...base,
      class: 'nodata',
      chiSquared: null,
      pValue: null,
      note:
        share <= 0 || share >= 1
          ? `no split to test at ${expectedCanaryPercent} %`
          : `too few requests at the current config version (${Math.round(total)}) for a split test`,
    };
  const expectedCanary = total * share;
  const expectedStable = total - expectedCanary;
  const chiSquared =
    (counts.canary - expectedCanary) ** 2 / expectedCanary +
    (counts.stable - expectedStable) ** 2 / expectedStable;
  const pValue = chiSquaredPValue(chiSquared);
  const observed = `${Math.round(counts.canary)} canary of ${Math.round(total)} (${base.observedCanaryPercent!.toFixed(2)} %, expected ${expectedCanaryPercent} %)`;
  return {
    ...base,
    class: pValue < threshold ? 'fail' : 'pass',
    chiSquared,
    pValue,
    note: `${observed}: χ² ${chiSquared.toFixed(2)}, p ${formatPValue(pValue)}`,
  };
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

// The complementary error function, Chebyshev fit with fractional error below 1.2e-7 everywhere
// (Numerical Recipes' erfcc): accurate in the far tail, where p-values of SRM tests live.
function erfc(x: number): number {
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

/** How far a step's config version has reached, as stored with the verdict. */
export const PropagationSchema = z.object({
  /** The config version the step needs served (the first version the guard saw for the step). */
  version: z.int(),
  /** The step it belongs to (`rollout.stepStartedAt`). */
  stepStartedAt: z.string(),
  /** The newest minute with traffic: its start and the share at `version` or newer. */
  lastMinute: z.nullable(z.object({ at: z.string(), percent: z.number(), requests: count })),
  /** When the bake began: the first minute in which the share reached the threshold (null until then). */
  bakeStartedAt: z.nullable(z.string()),
  /** The share the bake waits for. */
  threshold: z.number(),
});

/** A step's propagation. */
export type Propagation = z.infer<typeof PropagationSchema>;

/** One config or Worker version's share of the window's requests. */
export const VersionShareSchema = z.object({ version: z.string(), requests: count, percent: z.number() });

/** A version's share. */
export type VersionShare = z.infer<typeof VersionShareSchema>;

/**
 * The split test's counts: requests at the current config version, by assigned cohort, without
 * failovers. Older versions route by an older percent, so they would skew the test while a
 * change propagates.
 */
export function splitCounts(
  rows: readonly TrafficRow[],
  configVersion: number,
): { canary: number; stable: number } {
  const counts = { canary: 0, stable: 0 };
  for (const row of rows) {
    if (row.configVersion !== String(configVersion)) continue;
    if (row.cohort !== 'canary' && row.cohort !== 'stable') continue;
    counts[row.cohort] += Math.max(0, row.requests - row.failovers);
  }
  return counts;
}

/**
 * Each value's share of the window's requests, largest first.
 *
 * @example
 * versionShares(rows, (row) => row.workerVersion); // [{ version: 'a1b2…', requests: 9800, percent: 98 }, …]
 */
export function versionShares(rows: readonly TrafficRow[], key: (row: TrafficRow) => string): VersionShare[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const row of rows) {
    totals.set(key(row), (totals.get(key(row)) ?? 0) + row.requests);
    all += row.requests;
  }
  return [...totals]
    .map(([version, requests]) => ({ version, requests, percent: all > 0 ? (requests * 100) / all : 0 }))
    .sort((a, b) => b.requests - a.requests || a.version.localeCompare(b.version));
}

/** Per minute (epoch seconds, ascending): all requests and those at `version` or newer. */
export function minuteShares(
  rows: readonly TrafficRow[],
  version: number,
): { minute: number; requests: number; atVersion: number; percent: number }[] {
  const minutes = new Map<number, { requests: number; atVersion: number }>();
  for (const row of rows) {
    const entry = minutes.get(row.minute) ?? { requests: 0, atVersion: 0 };
    entry.requests += row.requests;
    const served = Number(row.configVersion);
    if (/^\d+$/.test(row.configVersion) && served >= version) entry.atVersion += row.requests;
    minutes.set(row.minute, entry);
  }
  return [...minutes]
    .sort(([a], [b]) => a - b)
    .map(([minute, entry]) => ({
      minute,
      ...entry,
      percent: entry.requests > 0 ? (entry.atVersion * 100) / entry.requests : 0,
    }));
}

/**
 * Tracks a step's propagation across runs. The bake starts in the first minute (ending after the
 * step began) in which at least `threshold` % of requests serve the step's version or a newer
 * one; until then the step is not baking, whatever the clock says. Once started it stays started.
 *
 * @example
 * const p = trackPropagation(previous, { version: 14, stepStartedAt }, rows, 99);
 * p.lastMinute?.percent; // 97.4
 */
export function trackPropagation(
  previous: Propagation | undefined,
  step: { version: number; stepStartedAt: string },
  rows: readonly TrafficRow[],
  threshold: number,
): Propagation {
  const same = previous !== undefined && previous.stepStartedAt === step.stepStartedAt;
  const version = same ? previous.version : step.version;
  const minutes = minuteShares(rows, version);
  const newest = minutes.at(-1);
  const lastMinute = newest
    ? { at: isoOfSeconds(newest.minute), percent: newest.percent, requests: newest.requests }
    : same
      ? previous.lastMinute
      : null;
  let bakeStartedAt = same ? previous.bakeStartedAt : null;
  if (bakeStartedAt === null) {
    const stepMs = Date.parse(step.stepStartedAt);
    const reached = minutes.find(
      (m) => m.minute * 1000 + 60_000 > stepMs && m.requests > 0 && m.percent >= threshold,
    );
    if (reached) bakeStartedAt = new Date(Math.max(reached.minute * 1000, stepMs)).toISOString();
  }
  return { version, stepStartedAt: step.stepStartedAt, lastMinute, bakeStartedAt, threshold };
}

/**
 * The propagation in words, e.g. `v14: 97.4 % of the last minute (bake not started)`.
 */
export function describePropagation(p: Propagation): string {
  const share = p.lastMinute
    ? `${p.lastMinute.percent.toFixed(1)} % of the last minute`
    : 'no traffic seen yet';
  const bake = p.bakeStartedAt ? `bake started ${p.bakeStartedAt}` : `bake waits for ${p.threshold} %`;
  return `v${p.version}: ${share} (${bake})`;
}

function isoOfSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

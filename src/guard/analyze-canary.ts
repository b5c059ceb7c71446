import type { CohortStats, WindowStats } from './cohort-stats';
import type { Thresholds } from './thresholds';
import type { BreachReason, JudgedNumbers, Verdict } from './verdict';

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

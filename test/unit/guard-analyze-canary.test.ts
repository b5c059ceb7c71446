import { describe, expect, it } from 'vitest';
import {
  analyzeCanary,
  type CohortStats,
  EMPTY_COHORT_STATS,
  type WindowStats,
} from '../../src/guard/analyze-canary';
import { DEFAULT_THRESHOLDS, resolveThresholds } from '../../src/guard/guard-settings';

const defaults = resolveThresholds(undefined);

function stats(canary: Partial<CohortStats>, stable: Partial<CohortStats> = {}): WindowStats {
  return {
    canary: { ...EMPTY_COHORT_STATS, requests: 1000, p95Ms: 300, ...canary },
    stable: { ...EMPTY_COHORT_STATS, requests: 9000, p95Ms: 250, ...stable },
  };
}

describe('analyzeCanary', () => {
  it('is healthy when every metric is within the launch thresholds', () => {
    const verdict = analyzeCanary(
      stats({ errors: 5, emailDelivered: 95, emailFailed: 5, uploadsOk: 97, uploadsFailed: 3 }),
      defaults,
      'last 5 min',
    );
    expect(verdict.status).toBe('healthy');
    expect(verdict.numbers.canary.errorRatePercent).toBeCloseTo(0.5);
    expect(verdict.numbers.canary.emailDeliveryPercent).toBeCloseTo(95);
    expect(verdict.numbers.canary.uploadFailurePercent).toBeCloseTo(3);
    expect(verdict.numbers.window).toBe('last 5 min');
  });

  it('is inconclusive below minRequests, however bad the few requests were', () => {
    const verdict = analyzeCanary(stats({ requests: 49, errors: 49, p95Ms: 9000 }), defaults, 'last 5 min');
    expect(verdict.status).toBe('inconclusive');
    if (verdict.status !== 'inconclusive') return;
    expect(verdict.reason).toContain('49 requests');
    expect(verdict.numbers.canary.requests).toBe(49);
  });

  it('judges exactly minRequests canary requests', () => {
    const verdict = analyzeCanary(stats({ requests: 50, errors: 5 }), defaults, 'w');
    expect(verdict.status).toBe('breach');
  });

  it('breaches on an error rate above 1 % that is also above stable by the margin', () => {
    const verdict = analyzeCanary(stats({ errors: 32 }, { errors: 36 }), defaults, 'last 5 min');
    expect(verdict.status).toBe('breach');
    if (verdict.status !== 'breach') return;
    expect(verdict.reasons.map((r) => r.metric)).toEqual(['errorRate']);
    expect(verdict.reasons[0]!.value).toBeCloseTo(3.2);
    expect(verdict.reasons[0]!.threshold).toBe(1);
    expect(verdict.numbers.stable.baselineErrorRatePercent).toBeCloseTo(0.4);
  });

  it('does not blame the canary for a bad day both cohorts share', () => {
    // Canary 3 %, stable 2.8 %: above 1 %, but within 0.5 points of stable.
    const verdict = analyzeCanary(stats({ errors: 30 }, { errors: 252 }), defaults, 'w');
    expect(verdict.status).toBe('healthy');
  });

  it('uses stable as a baseline only when stable has enough traffic of its own', () => {
    const verdict = analyzeCanary(stats({ errors: 30 }, { requests: 10, errors: 3 }), defaults, 'w');
    expect(verdict.status).toBe('breach');
    expect(verdict.numbers.stable.errorRatePercent).toBeCloseTo(30);
    expect(verdict.numbers.stable.baselineErrorRatePercent).toBe(0);
  });

  it('does not breach at exactly the error-rate threshold', () => {
    const verdict = analyzeCanary(stats({ errors: 10 }, { errors: 0 }), defaults, 'w');
    expect(verdict.numbers.canary.errorRatePercent).toBe(1);
    expect(verdict.status).toBe('healthy');
  });

  it('breaches on a p95 above 2 s', () => {
    const verdict = analyzeCanary(stats({ p95Ms: 2400 }), defaults, 'w');
    expect(verdict.status).toBe('breach');
    if (verdict.status !== 'breach') return;
    expect(verdict.reasons).toEqual([
      expect.objectContaining({ metric: 'p95', value: 2400, threshold: 2000 }),
    ]);
    expect(verdict.reasons[0]!.message).toContain('2400 ms > 2000 ms');
  });

  it('breaches on email delivery below 90 % and on upload failures above 5 %', () => {
    const verdict = analyzeCanary(
      stats({ emailDelivered: 80, emailFailed: 20, uploadsOk: 90, uploadsFailed: 10 }),
      defaults,
      'w',
    );
    expect(verdict.status).toBe('breach');
    if (verdict.status !== 'breach') return;
    expect(verdict.reasons.map((r) => [r.metric, r.value])).toEqual([
      ['emailDelivery', 80],
      ['uploadFailure', 10],
    ]);
  });

  it('does not judge a business rate with no samples, or fewer than minOutcomeSamples', () => {
    const none = analyzeCanary(stats({}), defaults, 'w');
    expect(none.numbers.canary.emailDeliveryPercent).toBeNull();
    expect(none.numbers.canary.uploadFailurePercent).toBeNull();
    expect(none.status).toBe('healthy');
    const few = analyzeCanary(stats({ emailFailed: 9, uploadsFailed: 9 }), defaults, 'w');
    expect(few.numbers.canary.emailSamples).toBe(9);
    expect(few.numbers.canary.emailDeliveryPercent).toBeNull();
    expect(few.status).toBe('healthy');
    const enough = analyzeCanary(stats({ emailFailed: 10 }), defaults, 'w');
    expect(enough.status).toBe('breach');
  });

  it('applies per-launch threshold overrides', () => {
    const lenient = resolveThresholds({ maxP95Ms: 3000, minRequests: 5 });
    expect(analyzeCanary(stats({ requests: 10, p95Ms: 2400 }), lenient, 'w').status).toBe('healthy');
    expect(analyzeCanary(stats({ requests: 10, p95Ms: 3100 }), lenient, 'w').status).toBe('breach');
  });

  it('carries the thresholds it judged with', () => {
    const verdict = analyzeCanary(stats({}), resolveThresholds({ maxErrorRatePercent: 2 }), 'w');
    expect(verdict.numbers.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, maxErrorRatePercent: 2 });
  });
});

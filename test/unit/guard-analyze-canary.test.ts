import { describe, expect, it } from 'vitest';
import { analyzeCanary, type CohortStats, type WindowStats } from '../../src/guard/analyze-canary';
import { DEFAULT_THRESHOLDS, resolveThresholds } from '../../src/guard/guard-settings';
import { unsampled } from '../support/fake-sql-api/control';

const defaults = resolveThresholds(undefined);

// 3000 canary requests: enough for a pass to mean something (2685 tell 1 % from 2 % errors).
function stats(canary: Partial<CohortStats>, stable: Partial<CohortStats> = {}): WindowStats {
  return {
    canary: unsampled({ requests: 3000, p95Ms: 300, ...canary }),
    stable: unsampled({ requests: 27000, p95Ms: 250, ...stable }),
  };
}

describe('analyzeCanary', () => {
  it('is healthy when every metric is within the launch thresholds on enough samples', () => {
    const verdict = analyzeCanary(
      stats({ errors: 15, emailDelivered: 950, emailFailed: 50, uploadsOk: 970, uploadsFailed: 30 }),
      defaults,
      'last 5 min',
    );
    expect(verdict.status).toBe('healthy');
    expect(verdict.numbers.canary.errorRatePercent).toBeCloseTo(0.5);
    expect(verdict.numbers.canary.emailDeliveryPercent).toBeCloseTo(95);
    expect(verdict.numbers.canary.uploadFailurePercent).toBeCloseTo(3);
    expect(verdict.numbers.window).toBe('last 5 min');
  });

  it('is inconclusive (underpowered) while a clean window is too small to have caught a breach', () => {
    const verdict = analyzeCanary(stats({ requests: 400, errors: 1 }), defaults, 'last 5 min');
    expect(verdict.status).toBe('inconclusive');
    if (verdict.status !== 'inconclusive') return;
    expect(verdict.reason).toContain('inconclusive (underpowered): needs 2285 more requests');
    expect(verdict.numbers.canary.requests).toBe(400);
  });

  it('still catches a gross failure on a few requests: 4 errors in 20 against 1 %', () => {
    expect(analyzeCanary(stats({ requests: 20, errors: 4 }), defaults, 'w').status).toBe('breach');
    expect(analyzeCanary(stats({ requests: 20, errors: 3 }), defaults, 'w').status).toBe('inconclusive');
  });

  it('breaches when the error rate is shown above max(1 %, stable + the margin)', () => {
    const verdict = analyzeCanary(stats({ errors: 96 }, { errors: 108 }), defaults, 'last 5 min');
    expect(verdict.status).toBe('breach');
    if (verdict.status !== 'breach') return;
    expect(verdict.reasons.map((r) => r.metric)).toEqual(['errorRate']);
    expect(verdict.reasons[0]!.value).toBeCloseTo(3.2);
    expect(verdict.reasons[0]!.threshold).toBe(1);
    expect(verdict.numbers.stable.baselineErrorRatePercent).toBeCloseTo(0.4);
  });

  it('does not blame the canary for a bad day both cohorts share', () => {
    // Canary 3 %, stable 2.8 %: above 1 %, but not above stable + 0.5 points.
    const verdict = analyzeCanary(stats({ errors: 90 }, { errors: 756 }), defaults, 'w');
    expect(verdict.status).toBe('healthy');
  });

  it('uses stable as a baseline only when stable has enough traffic of its own', () => {
    const verdict = analyzeCanary(stats({ errors: 90 }, { requests: 10, errors: 3 }), defaults, 'w');
    expect(verdict.status).toBe('breach');
    expect(verdict.numbers.stable.errorRatePercent).toBeCloseTo(30);
    expect(verdict.numbers.stable.baselineErrorRatePercent).toBe(0);
  });

  it('does not breach on a point estimate a little above the threshold', () => {
    const verdict = analyzeCanary(stats({ errors: 36 }, { errors: 0 }), defaults, 'w');
    expect(verdict.numbers.canary.errorRatePercent).toBeCloseTo(1.2);
    expect(verdict.status).toBe('healthy');
  });

  it('breaches when more than 5 % of requests are slower than maxP95Ms', () => {
    const verdict = analyzeCanary(stats({ p95Ms: 2400, storedSlow: 240 }), defaults, 'w');
    expect(verdict.status).toBe('breach');
    if (verdict.status !== 'breach') return;
    expect(verdict.reasons).toEqual([
      expect.objectContaining({ metric: 'p95', value: 2400, threshold: 2000 }),
    ]);
    expect(verdict.reasons[0]!.message).toContain('8.00 % of requests slower than 2000 ms (240 of 3000)');
    // 6 % slower on 3000 requests is not evidence of more than 5 %.
    expect(analyzeCanary(stats({ p95Ms: 2100, storedSlow: 180 }), defaults, 'w').status).toBe('healthy');
  });

  it('breaches on email delivery shown below 90 % and upload failures shown above 5 %', () => {
    const verdict = analyzeCanary(
      stats({ emailDelivered: 70, emailFailed: 30, uploadsOk: 80, uploadsFailed: 20 }),
      defaults,
      'w',
    );
    expect(verdict.status).toBe('breach');
    if (verdict.status !== 'breach') return;
    expect(verdict.reasons.map((r) => [r.metric, r.value])).toEqual([
      ['emailDelivery', 70],
      ['uploadFailure', 20],
    ]);
  });

  it('shows a business rate without enough outcomes but does not hold the verdict on it', () => {
    const none = analyzeCanary(stats({}), defaults, 'w');
    expect(none.numbers.canary.emailDeliveryPercent).toBeNull();
    expect(none.status).toBe('healthy');
    const few = analyzeCanary(stats({ emailDelivered: 8, emailFailed: 1 }), defaults, 'w');
    expect(few.numbers.canary.emailSamples).toBe(9);
    expect(few.table?.find((r) => r.metric === 'emailDelivery')).toMatchObject({
      class: 'underpowered',
      needs: 223,
    });
    expect(few.status).toBe('healthy');
    expect(analyzeCanary(stats({ emailFailed: 10 }), defaults, 'w').status).toBe('breach');
  });

  it('applies per-launch threshold overrides', () => {
    const lenient = resolveThresholds({ maxP95Ms: 3000, maxErrorRatePercent: 5 });
    expect(analyzeCanary(stats({ errors: 90 }), lenient, 'w').status).toBe('healthy');
    expect(analyzeCanary(stats({ errors: 240 }), lenient, 'w').status).toBe('breach');
  });
  it('carries the thresholds it judged with', () => {
    const verdict = analyzeCanary(stats({}), resolveThresholds({ maxErrorRatePercent: 2 }), 'w');
    expect(verdict.numbers.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, maxErrorRatePercent: 2 });
  });
});

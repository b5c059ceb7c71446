import { describe, expect, it } from 'vitest';
import { chiSquaredPValue, sampleRatioTest } from '../../src/guard/sample-ratio';
import {
  describePropagation,
  minuteShares,
  splitCounts,
  trackPropagation,
  versionShares,
  type TrafficRow,
} from '../../src/guard/traffic-split';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const MIN = 60_000;

function rows(minuteMs: number, byVersion: Record<string, number>): TrafficRow[] {
  return Object.entries(byVersion).map(([configVersion, requests]) => ({
    minute: minuteMs / 1000,
    configVersion,
    workerVersion: 'w1',
    cohort: 'stable',
    requests,
    failovers: 0,
  }));
}

/** `n` minutes with the same split each: no spread beyond independent requests. */
function steady(canary: number, stable: number, n = 10) {
  const minutes = Array.from({ length: n }, () => ({ canary: canary / n, stable: stable / n }));
  return { canary, stable, minutes };
}

describe('sampleRatioTest (chi-squared against the split, per-visitor spread, two looks)', () => {
  // Reference values: Σ (O − E)² / E, as scipy.stats.chisquare gives it.
  it.each([
    // canary, stable, percent, χ²
    [5300, 5000, 50, 8.737864],
    [5100, 5000, 50, 0.990099],
    [5500, 5000, 50, 23.809524],
    [1100, 9000, 10, 8.910891],
  ])('%i vs %i at %i %% gives χ² %f', (canary, stable, percent, chi) => {
    expect(sampleRatioTest(steady(canary, stable), percent, 0.001).chiSquared).toBeCloseTo(chi, 5);
  });

  it('reads χ² against F(1, minutes − 1), so a few minutes need stronger evidence than χ²(1)', () => {
    // χ² 23.8: p 1.1e-6 against χ²(1); against F(1, 9) (Student's t 4.88, 9 df) p 8.7e-4.
    expect(sampleRatioTest(steady(5500, 5000), 50, 0.001, 1).pValue).toBeCloseTo(8.72e-4, 5);
    const many = sampleRatioTest(steady(5500, 5000, 1000), 50, 0.001, 1);
    expect(many.class).toBe('fail');
    expect(many.pValue).toBeGreaterThan(1.06e-6);
    expect(many.pValue).toBeLessThan(1.3e-6);
    expect(sampleRatioTest(steady(5100, 5000, 1000), 50, 0.001, 1).class).toBe('pass');
  });

  it('calls a mismatch only on the second look in a row below the threshold', () => {
    const split = steady(5500, 5000, 1000);
    expect(sampleRatioTest(split, 50, 0.001)).toMatchObject({
      class: 'pass',
      mismatches: 1,
      note: expect.stringContaining('look 1 of 2 below 0.001, not yet a mismatch'),
    });
    expect(sampleRatioTest(split, 50, 0.001, 1)).toMatchObject({ class: 'fail', mismatches: 2 });
    expect(sampleRatioTest(steady(5000, 5000, 1000), 50, 0.001, 1)).toMatchObject({
      class: 'pass',
      mismatches: 0,
    });
  });

  it('allows for several requests per visitor: the minute-to-minute spread divides χ²', () => {
    // 10 % configured and observed overall, but each minute's canary count swings by whole
    // visitors of 5 requests: the spread is about 5 times what independent requests would give.
    const minutes = Array.from({ length: 30 }, (_, i) => ({
      canary: 100 + (i % 2 === 0 ? 15 : -15),
      stable: 900 - (i % 2 === 0 ? 15 : -15),
    }));
    const result = sampleRatioTest({ canary: 3000 + 90, stable: 27000 - 90, minutes }, 10, 0.001, 1);
    expect(result.dispersion).toBeCloseTo(2.59, 2);
    expect(result.chiSquared).toBeCloseTo(3, 1);
    expect(result.class).toBe('pass');
    // The same counts as independent requests would (dispersion 1) give χ² 3 too, but a real
    // 12 % share is still caught through the spread.
    const skewed = minutes.map((m) => ({ canary: m.canary + 20, stable: m.stable - 20 }));
    expect(sampleRatioTest({ canary: 3600, stable: 26400, minutes: skewed }, 10, 0.001, 1).class).toBe(
      'fail',
    );
  });

  it('needs three minutes with traffic, an expected count of 8 per cohort, and a split to test', () => {
    expect(sampleRatioTest({ canary: 100, stable: 5000 }, 10, 0.001)).toMatchObject({
      class: 'nodata',
      note: 'too few minutes with traffic at the current config version for a split test (3 needed)',
    });
    expect(sampleRatioTest(steady(0, 70, 3), 10, 0.001)).toMatchObject({
      class: 'nodata',
      note: 'too few requests at the current config version (70) for a split test',
    });
    expect(sampleRatioTest(steady(0, 200, 3), 10, 0.001, 1).class).toBe('fail');
    expect(sampleRatioTest(steady(5000, 0, 3), 100, 0.001)).toMatchObject({
      class: 'nodata',
      note: 'no split to test at 100 %',
    });
  });

  it('counts stored requests at the current version, failovers with their assigned cohort', () => {
    const at = (minute: number, configVersion: string, cohort: string, requests: number, failovers = 0) => ({
      minute,
      configVersion,
      workerVersion: 'w1',
      cohort,
      requests,
      failovers,
      storedRequests: requests / 2,
    });
    expect(
      splitCounts(
        [
          at(60, '3', 'canary', 200, 40),
          at(60, '3', 'stable', 1800),
          at(60, '2', 'canary', 1000),
          at(120, '3', 'canary', 100),
        ],
        3,
      ),
    ).toEqual({
      canary: 150,
      stable: 900,
      minutes: [
        { canary: 100, stable: 900 },
        { canary: 50, stable: 0 },
      ],
    });
  });

  it('has the textbook critical values', () => {
    expect(chiSquaredPValue(3.841459)).toBeCloseTo(0.05, 6);
    expect(chiSquaredPValue(6.634897)).toBeCloseTo(0.01, 6);
    expect(chiSquaredPValue(10.827566) / 0.001).toBeCloseTo(1, 4);
    expect(chiSquaredPValue(0)).toBe(1);
  });
});

describe('propagation of a step’s config version', () => {
  it('measures each minute’s share at the version or newer', () => {
    const shares = minuteShares(
      [...rows(T0, { '13': 30, '14': 960, '15': 10 }), ...rows(T0 + MIN, { '14': 5 })],
      14,
    );
    expect(shares).toEqual([
      { minute: T0 / 1000, requests: 1000, atVersion: 970, percent: 97 },
      { minute: T0 / 1000 + 60, requests: 5, atVersion: 5, percent: 100 },
    ]);
  });

  it.each([
    [98.9, null],
    [99, new Date(T0 + MIN).toISOString()],
    [100, new Date(T0 + MIN).toISOString()],
  ])('starts the bake at %f %% of a minute: %s', (percent, bakeStartedAt) => {
    const at = Math.round(percent * 10);
    const traffic = rows(T0 + MIN, { '14': at, '13': 1000 - at });
    const p = trackPropagation(
      undefined,
      { version: 14, stepStartedAt: new Date(T0 + 10_000).toISOString() },
      traffic,
      99,
    );
    expect(p.bakeStartedAt).toBe(bakeStartedAt);
    expect(p.lastMinute).toEqual({
      at: new Date(T0 + MIN).toISOString(),
      percent: expect.closeTo(percent),
      requests: 1000,
    });
  });

  it('starts no earlier than the step itself, and ignores minutes that ended before it', () => {
    const step = { version: 14, stepStartedAt: new Date(T0 + 30_000).toISOString() };
    expect(trackPropagation(undefined, step, rows(T0, { '14': 100 }), 99).bakeStartedAt).toBe(
      step.stepStartedAt,
    );
    const before = { version: 14, stepStartedAt: new Date(T0 + 2 * MIN).toISOString() };
    expect(trackPropagation(undefined, before, rows(T0, { '14': 100 }), 99).bakeStartedAt).toBeNull();
  });

  it('keeps the step’s version and bake start across runs, and starts over on a new step', () => {
    const step = { version: 14, stepStartedAt: new Date(T0).toISOString() };
    const first = trackPropagation(undefined, step, rows(T0, { '14': 100 }), 99);
    // A flag change made v15 current: the step still needs only v14 (or newer).
    const later = trackPropagation(
      first,
      { ...step, version: 15 },
      rows(T0 + 9 * MIN, { '14': 10, '15': 90 }),
      99,
    );
    expect(later).toMatchObject({
      version: 14,
      bakeStartedAt: new Date(T0).toISOString(),
      lastMinute: { percent: 100 },
    });
    const next = trackPropagation(
      later,
      { version: 16, stepStartedAt: new Date(T0 + 20 * MIN).toISOString() },
      [],
      99,
    );
    expect(next).toMatchObject({ version: 16, bakeStartedAt: null, lastMinute: null });
    expect(describePropagation(next)).toBe('v16: no traffic seen yet (bake waits for 99 %)');
    expect(describePropagation(later)).toBe(
      `v14: 100.0 % of the last minute (bake started ${new Date(T0).toISOString()})`,
    );
  });

  it('lists the versions seen, largest first', () => {
    expect(versionShares(rows(T0, { '13': 25, '14': 75 }), (row) => row.configVersion)).toEqual([
      { version: '14', requests: 75, percent: 75 },
      { version: '13', requests: 25, percent: 25 },
    ]);
  });
});

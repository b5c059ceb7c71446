import { describe, expect, it } from 'vitest';
import {
  chiSquaredPValue,
  describePropagation,
  minuteShares,
  sampleRatioTest,
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

describe('sampleRatioTest (chi-squared, two cohorts, one degree of freedom)', () => {
  // Reference values: Σ (O − E)² / E and p = erfc(√(χ²/2)), as scipy.stats.chisquare gives them.
  it.each([
    // canary, stable, percent, χ², p
    [5300, 5000, 50, 8.737864, 0.0031167],
    [5100, 5000, 50, 0.990099, 0.319718],
    [5500, 5000, 50, 23.809524, 1.0635e-6],
    [1100, 9000, 10, 8.910891, 0.0028347],
  ])('%i vs %i at %i %% gives χ² %f, p %f', (canary, stable, percent, chi, p) => {
    const result = sampleRatioTest({ canary, stable }, percent, 0.001);
    expect(result.chiSquared).toBeCloseTo(chi, 5);
    expect(result.pValue! / p).toBeCloseTo(1, 3);
  });

  it('flags p < 0.001: 5,000 vs 5,500 at 50 % is a mismatch, 5,000 vs 5,100 is not', () => {
    expect(sampleRatioTest({ canary: 5500, stable: 5000 }, 50, 0.001).class).toBe('fail');
    expect(sampleRatioTest({ canary: 5100, stable: 5000 }, 50, 0.001).class).toBe('pass');
  });

  it('5,000 vs 5,300 at 50 % (p 0.0031) passes at the default 0.001 and fails at srmPValue 0.01', () => {
    expect(sampleRatioTest({ canary: 5300, stable: 5000 }, 50, 0.001).class).toBe('pass');
    expect(sampleRatioTest({ canary: 5300, stable: 5000 }, 50, 0.01).class).toBe('fail');
  });

  it('has the textbook critical values', () => {
    expect(chiSquaredPValue(3.841459)).toBeCloseTo(0.05, 6);
    expect(chiSquaredPValue(6.634897)).toBeCloseTo(0.01, 6);
    expect(chiSquaredPValue(10.827566) / 0.001).toBeCloseTo(1, 4);
    expect(chiSquaredPValue(0)).toBe(1);
  });

  it('needs an expected count of 8 per cohort (GrowthBook’s minimum), and a split to test', () => {
    // 70 requests at 10 %: 7 expected in the canary.
    expect(sampleRatioTest({ canary: 0, stable: 70 }, 10, 0.001)).toMatchObject({
      class: 'nodata',
      pValue: null,
    });
    // 80 requests at 10 %: 8 expected, so it is judged (χ² 8.89, p 0.0029: not yet a mismatch).
    expect(sampleRatioTest({ canary: 0, stable: 80 }, 10, 0.001)).toMatchObject({
      class: 'pass',
      pValue: expect.closeTo(0.00287, 5),
    });
    // A canary that receives nothing from 200 requests is a mismatch.
    expect(sampleRatioTest({ canary: 0, stable: 200 }, 10, 0.001).class).toBe('fail');
    expect(sampleRatioTest({ canary: 5000, stable: 0 }, 100, 0.001)).toMatchObject({
      class: 'nodata',
      note: 'no split to test at 100 %',
    });
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

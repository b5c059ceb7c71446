import { describe, expect, it } from 'vitest';
import {
  binomialPValue,
  criticalCount,
  fOneTail,
  judgeShare,
  minimumSample,
  regularizedBeta,
} from '../../src/guard/exact-tests';

describe('binomialPValue: the one-sided exact test of "at most the allowed share"', () => {
  it.each([
    // bad, total, allowed, P(X ≥ bad): 1 − Σ_{i<bad} C(total, i) pⁱ (1 − p)^(total − i), summed
    // term by term (not through the incomplete beta the guard uses).
    [2, 50, 0.01, 0.0894353],
    [8, 100, 0.01, 8.2202e-6],
    [6, 100, 0.01, 5.34534e-4],
    [5, 100, 0.01, 3.43232e-3],
    [4, 20, 0.01, 4.26209e-5],
    [3, 20, 0.01, 1.00358e-3],
    [21, 100, 0.1, 8.07574e-4],
  ])('%i bad of %i against %f has p %f', (bad, total, allowed, p) => {
    expect(binomialPValue(bad, total, allowed) / p).toBeCloseTo(1, 3);
  });

  it('calls 2 errors in 50 no breach of 1 % at α 0.001, and 8 in 100 one', () => {
    expect(binomialPValue(2, 50, 0.01)).toBeGreaterThan(0.001);
    expect(binomialPValue(8, 100, 0.01)).toBeLessThan(0.001);
  });

  it('is 1 with nothing bad, and certain at the edges', () => {
    expect(binomialPValue(0, 100, 0.01)).toBe(1);
    expect(binomialPValue(1, 100, 0)).toBe(0);
    expect(binomialPValue(100, 100, 1)).toBe(1);
  });

  it('finds the smallest breaching count: 6 of 100 and 4 of 20 against 1 %', () => {
    expect(criticalCount(100, 0.01)).toBe(6);
    expect(criticalCount(20, 0.01)).toBe(4);
  });
});

describe('minimumSample: the samples a pass needs to mean something', () => {
  it.each([
    // allowed share, first sample with 90 % power against twice the share at α 0.001
    [0.01, 2685], // errors 1 % vs 2 %
    [0.05, 511], // slow requests 5 % vs 10 %
    [0.1, 232], // emails 90 % vs 80 % delivered
  ])('%f needs %i', (allowed, n) => {
    expect(minimumSample(allowed)).toBe(n);
    // And the power there really is at least 90 % (and not below n − 10 % of it).
    const k = criticalCount(n, allowed);
    expect(binomialPValue(k, n, 2 * allowed)).toBeGreaterThanOrEqual(0.9);
    const fewer = Math.round(n * 0.9);
    expect(binomialPValue(criticalCount(fewer, allowed), fewer, 2 * allowed)).toBeLessThan(0.9);
  });

  it('asks for a single sample when nothing bad is allowed (the first failure breaches)', () => {
    expect(minimumSample(0)).toBe(1);
  });
});

describe('judgeShare', () => {
  it('fails on the window that rejects, else is underpowered below the minimum, else passes', () => {
    expect(judgeShare([{ bad: 8, total: 100, allowed: 0.01 }], 50)).toMatchObject({
      class: 'fail',
      window: 0,
    });
    expect(
      judgeShare(
        [
          { bad: 1, total: 100, allowed: 0.01 },
          { bad: 60, total: 3000, allowed: 0.01 },
        ],
        50,
      ),
    ).toMatchObject({ class: 'fail', window: 1 });
    expect(judgeShare([{ bad: 2, total: 50, allowed: 0.01 }], 50)).toMatchObject({
      class: 'underpowered',
      needs: 2635,
      minimum: 2685,
    });
    expect(judgeShare([{ bad: 20, total: 3000, allowed: 0.01 }], 50)).toMatchObject({
      class: 'pass',
      needs: 0,
    });
    expect(judgeShare([{ bad: 0, total: 0, allowed: 0.01 }], 50).class).toBe('nodata');
  });

  it('keeps the launch floor when it is above the power minimum', () => {
    expect(judgeShare([{ bad: 0, total: 3000, allowed: 0.01 }], 5000)).toMatchObject({
      class: 'underpowered',
      needs: 2000,
    });
  });
});

describe('the tails behind them', () => {
  it('has the regularized incomplete beta of textbook cases', () => {
    expect(regularizedBeta(0.5, 2, 2)).toBeCloseTo(0.5, 12);
    expect(regularizedBeta(0.25, 1, 1)).toBeCloseTo(0.25, 12);
    expect(regularizedBeta(0.3, 2, 5)).toBeCloseTo(0.579825, 6);
  });

  it('reads F(1, d): Student t² critical values, and χ²(1) as d grows', () => {
    expect(fOneTail(4.964603, 10)).toBeCloseTo(0.05, 6);
    expect(fOneTail(22.857, 9)).toBeCloseTo(0.001, 5);
    expect(fOneTail(10.827566, 1e9)).toBeCloseTo(0.001, 6);
    expect(fOneTail(0, 5)).toBe(1);
  });
});

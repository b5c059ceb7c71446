import * as z from 'zod/mini';

/**
 * A percentage from 0 to 100 with at most two decimals (one bucket is 0.01 %).
 *
 * @example
 * PercentSchema.safeParse(12.5).success; // true
 */
export const PercentSchema = z.number().check(
  z.gte(0, 'percent must be at least 0'),
  z.lte(100, 'percent must be at most 100'),
  // multipleOf(0.01) fails on float noise (0.29 % 0.01 ≠ 0), so compare in whole buckets instead.
  z.refine(
    (value) => Math.abs(value * 100 - Math.round(value * 100)) < 1e-9,
    'percent allows at most two decimals',
  ),
);

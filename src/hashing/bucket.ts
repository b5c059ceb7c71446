import { fnv1a32, fnv1a32Decimal } from './fnv1a32';

/** Number of buckets: percent × 100, so a percent with two decimals maps to whole buckets. */
export const BUCKETS = 10_000;

/**
 * Bucketing algorithm v1: `fnv1a32(String(fnv1a32(seed + id))) % 10000`.
 *
 * Bit-compatible with GrowthBook's hash version 2 × 10000, so assignments can be reproduced
 * elsewhere. Frozen by test/unit/bucket-vectors.json: a new behaviour must get a new function,
 * never a change to this one, or every visitor would be reshuffled.
 *
 * @example
 * bucket('salt-2026', 'visitor-123'); // an integer in [0, 9999]
 */
export function bucket(seed: string, id: string): number {
  return seededBucket(fnv1a32(seed), id);
}

/**
 * {@link bucket} with the seed already hashed (`fnv1a32(seed)`), for hot paths that bucket many
 * ids under one seed. Same results, frozen by the same vectors.
 *
 * @example
 * seededBucket(fnv1a32('salt-2026'), 'visitor-123') === bucket('salt-2026', 'visitor-123'); // true
 */
export function seededBucket(seedHash: number, id: string): number {
  return fnv1a32Decimal(fnv1a32(id, seedHash)) % BUCKETS;
}

/**
 * Whether a bucket falls inside a percentage. Percent may carry two decimals; rounding avoids
 * float noise such as 10.01 × 100 = 1000.9999.
 *
 * @example
 * inPercent(999, 10); // true: buckets 0–999 are the first 10 %
 */
export function inPercent(bucketValue: number, percent: number): boolean {
  return bucketValue < Math.round(percent * 100);
}

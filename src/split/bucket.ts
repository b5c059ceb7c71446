/**
 * Bucketing: which of 10,000 buckets an id falls in under a seed. Pure and I/O-free, shared by
 * the cohort split and every flag. Frozen by test/unit/bucket-vectors.json.
 */

const OFFSET_BASIS = 2166136261;
const PRIME = 16777619;

/** Number of buckets: percent × 100, so a percent with two decimals maps to whole buckets. */
export const BUCKETS = 10_000;

/**
 * 32-bit FNV-1a over UTF-16 code units (not UTF-8 bytes), as GrowthBook's SDKs compute it.
 * FNV's whole state is the running hash, so `fnv1a32(b, fnv1a32(a)) === fnv1a32(a + b)`: a
 * seed can be hashed once and every id continued from it.
 *
 * @example
 * fnv1a32('a'); // 3826002220
 * fnv1a32('b', fnv1a32('a')) === fnv1a32('ab'); // true
 */
export function fnv1a32(text: string, basis: number = OFFSET_BASIS): number {
  let hash = basis;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    // Math.imul keeps the multiplication in 32 bits, where a float product would lose the low bits.
    hash = Math.imul(hash, PRIME);
  }
  return hash >>> 0;
}

// The digits of one number, least significant first; shared, so hashing allocates nothing.
const digits = new Uint8Array(10);

/**
 * `fnv1a32(String(value))` for a uint32, without building the string: the per-request path
 * hashes one such number per flag, and allocation dominates at that size. Digits are taken with
 * int32 arithmetic (a division by the constant 10 that the JIT turns into a multiplication);
 * only a value above 2^31 − 1 needs one float step first.
 */
export function fnv1a32Decimal(value: number): number {
  let count = 0;
  if (value > 0x7fffffff) {
    const quotient = Math.floor(value / 10);
    digits[count++] = 48 + (value - quotient * 10);
    value = quotient;
  }
  let rest = value | 0;
  do {
    const quotient = (rest / 10) | 0;
    digits[count++] = 48 + (rest - quotient * 10);
    rest = quotient;
  } while (rest !== 0);
  let hash = OFFSET_BASIS;
  while (count > 0) hash = Math.imul(hash ^ digits[--count]!, PRIME);
  return hash >>> 0;
}

// The last seed bucketed and its hash (the empty string hashes to the offset basis).
let lastSeed = '';
let lastSeedHash = OFFSET_BASIS;

/**
 * Bucketing algorithm v1: `fnv1a32(String(fnv1a32(seed + id))) % 10000`.
 *
 * Bit-compatible with GrowthBook's hash version 2 × 10000, so assignments can be reproduced
 * elsewhere. Frozen by test/unit/bucket-vectors.json: a new behaviour must get a new function,
 * never a change to this one, or every visitor would be reshuffled.
 */
export function bucket(seed: string, id: string): number {
  // One seed serves every request of a config: its hash is kept rather than recomputed.
  if (seed !== lastSeed) {
    lastSeedHash = fnv1a32(seed);
    lastSeed = seed;
  }
  return seededBucket(lastSeedHash, id);
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

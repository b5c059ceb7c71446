import { describe, expect, it } from 'vitest';
// GrowthBook's own hash, read from its package: the vectors must match the reference, not ourselves.
import { hash as growthbookHash } from '../../node_modules/@growthbook/growthbook/dist/esm/util.mjs';
import { bucket, fnv1a32, inPercent } from '../../src/index';
import { seededBucket, fnv1a32Decimal } from '../../src/split/bucket';
import vectors from './bucket-vectors.json';

describe('bucket(seed, id)', () => {
  it.each(vectors)('bucket($seed, $id) = $bucket (frozen vector)', ({ seed, id, bucket: expected }) => {
    expect(bucket(seed, id)).toBe(expected);
  });

  it.each(vectors)('matches GrowthBook hash v2 × 10000 for ($seed, $id)', ({ seed, id }) => {
    expect(bucket(seed, id)).toBe(Math.round((growthbookHash(seed, id, 2) as number) * 10000));
  });

  it.each(vectors)(
    'gives the same bucket from a pre-hashed seed for ($seed, $id)',
    ({ seed, id, bucket: expected }) => {
      expect(seededBucket(fnv1a32(seed), id)).toBe(expected);
    },
  );

  it('hashes the decimal form of a uint32 without building the string', () => {
    for (const value of [0, 7, 10, 99_999, 100_000, 2_147_483_648, 4_294_967_295]) {
      expect(fnv1a32Decimal(value)).toBe(fnv1a32(String(value)));
    }
    for (let i = 0; i < 10_000; i++) {
      const value = Math.floor(Math.random() * 2 ** 32);
      expect(fnv1a32Decimal(value)).toBe(fnv1a32(String(value)));
    }
  });

  it('hashes UTF-16 code units with the FNV-1a 32-bit constants', () => {
    expect(fnv1a32('')).toBe(2166136261);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('always returns an integer from 0 to 9999', () => {
    for (let i = 0; i < 2000; i++) {
      const value = bucket('seed', `visitor-${i}`);
      expect(Number.isInteger(value) && value >= 0 && value <= 9999).toBe(true);
    }
  });

  it('counts a percent with two decimals in whole buckets', () => {
    expect(inPercent(1000, 10.01)).toBe(true);
    expect(inPercent(1001, 10.01)).toBe(false);
    expect(inPercent(0, 0)).toBe(false);
    expect(inPercent(9999, 100)).toBe(true);
  });
});

const OFFSET_BASIS = 2166136261;
const PRIME = 16777619;

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

const digits = new Uint8Array(10);

/**
 * `fnv1a32(String(value))` for a uint32, without building the string: the per-request path
 * hashes one such number per flag, and allocation dominates at that size.
 *
 * @example
 * fnv1a32Decimal(1234) === fnv1a32('1234'); // true
 */
export function fnv1a32Decimal(value: number): number {
  let count = 0;
  do {
    digits[count++] = 48 + (value % 10);
    value = Math.floor(value / 10);
  } while (value > 0);
  let hash = OFFSET_BASIS;
  while (count > 0) {
    hash ^= digits[--count]!;
    hash = Math.imul(hash, PRIME);
  }
  return hash >>> 0;
}

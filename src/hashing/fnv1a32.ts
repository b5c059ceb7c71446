const OFFSET_BASIS = 2166136261;
const PRIME = 16777619;

/**
 * 32-bit FNV-1a over UTF-16 code units (not UTF-8 bytes), as GrowthBook's SDKs compute it.
 *
 * @example
 * fnv1a32('a'); // 3826002220
 */
export function fnv1a32(text: string): number {
  let hash = OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    // Math.imul keeps the multiplication in 32 bits, where a float product would lose the low bits.
    hash = Math.imul(hash, PRIME);
  }
  return hash >>> 0;
}

/** A seeded pseudo-random source: the same seed always yields the same fuzz run. */
export interface FuzzRandom {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, max). */
  int(max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A string of `length` characters drawn from `alphabet`. */
  text(length: number, alphabet?: string): string;
}

const PRINTABLE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/ ';

/**
 * mulberry32: small, fast and good enough to spread fuzz cases; not for anything secret.
 *
 * @example
 * const random = fuzzRandom(42);
 * random.int(10); // the same number on every run with seed 42
 */
export function fuzzRandom(seed: number): FuzzRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    seed: seed >>> 0,
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)]!,
    text: (length, alphabet = PRINTABLE) => {
      let out = '';
      for (let i = 0; i < length; i++) out += alphabet[int(alphabet.length)];
      return out;
    },
  };
}

/**
 * The seed of a fuzz run: `FUZZ_SEED` when set (to replay a run), else the given default.
 *
 * @example
 * const seed = fuzzSeed(20261125); // FUZZ_SEED=123 npx vitest run … replays seed 123
 */
export function fuzzSeed(fallback: number): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv === undefined || fromEnv === '') return fallback;
  if (fromEnv === 'random') return Math.floor(Math.random() * 4_294_967_296);
  const seed = Number(fromEnv);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`FUZZ_SEED must be a whole number or "random", got ${fromEnv}`);
  return seed;
}

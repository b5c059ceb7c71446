import { mulberry32 } from '../fixtures/seeded-random';

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
 * The fuzz cases' source, on {@link mulberry32}.
 *
 * @example
 * const random = fuzzRandom(42);
 * random.int(10); // the same number on every run with seed 42
 */
export function fuzzRandom(seed: number): FuzzRandom {
  const next = mulberry32(seed);
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

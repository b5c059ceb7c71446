import type { FlagConfig } from '../config/config-schema';
import { fnv1a32 } from '../hashing/fnv1a32';

/** A flag prepared for evaluation: its seed hashed and its threshold in buckets. */
export interface CompiledFlag {
  name: string;
  flag: FlagConfig;
  seedHash: number;
  /** Visitors with a bucket below this get `true`. */
  threshold: number;
}

// Configs are immutable snapshots, so a flag set is compiled once per config, not per request.
const compiled = new WeakMap<object, CompiledFlag[]>();

/**
 * The flags of a config, compiled once and memoized by the flags object's identity.
 *
 * @example
 * compileFlags(config.flags)[0]; // { name: 'fileStorage', seedHash: 2304335283, threshold: 5000, ... }
 */
export function compileFlags(flags: Readonly<Record<string, FlagConfig>>): CompiledFlag[] {
  let list = compiled.get(flags);
  if (!list) {
    list = Object.entries(flags).map(([name, flag]) => ({
      name,
      flag,
      seedHash: fnv1a32(flag.seed ?? name),
      threshold: Math.round(flag.percent * 100),
    }));
    compiled.set(flags, list);
  }
  return list;
}

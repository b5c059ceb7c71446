import type { FlagConfig, KillSwitch } from '../config/config-schema';
import { fnv1a32, seededBucket } from './bucket';

/** Why a flag has its value (OpenFeature reasons, plus KILLED for the kill switch). */
export type FlagReason = 'STATIC' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'KILLED';

/** One flag's evaluation. Evaluation never throws. */
export interface FlagResult {
  readonly value: boolean;
  readonly reason: FlagReason;
}

/** A flag set prepared for evaluation, and the object every result map is cloned from. */
interface CompiledFlags {
  list: CompiledFlag[];
  /** Every flag name, so that a clone of it has its final shape before any value is written. */
  template: Record<string, FlagResult>;
}

/** A flag prepared for evaluation: its seed hashed and its threshold in buckets. */
interface CompiledFlag {
  name: string;
  flag: FlagConfig;
  seedHash: number;
  /** Visitors with a bucket below this get `true`. */
  threshold: number;
}

// Results are shared immutable values: evaluation allocates nothing per flag.
const RESULT = {
  killed: Object.freeze({ value: false, reason: 'KILLED' }),
  static: Object.freeze({ value: true, reason: 'STATIC' }),
  split: Object.freeze({ value: true, reason: 'SPLIT' }),
  disabledOn: Object.freeze({ value: true, reason: 'DISABLED' }),
  disabledOff: Object.freeze({ value: false, reason: 'DISABLED' }),
  defaultOn: Object.freeze({ value: true, reason: 'DEFAULT' }),
  defaultOff: Object.freeze({ value: false, reason: 'DEFAULT' }),
} as const satisfies Record<string, FlagResult>;

// Configs are immutable snapshots, so a flag set is compiled once per config, not per request.
const compiled = new WeakMap<object, CompiledFlags>();
// The flags of the current config: almost every call asks for them, without a WeakMap lookup.
let last: { flags: object; compiled: CompiledFlags } | undefined;

/** The flags of a config, compiled once and memoized by the flags object's identity. */
function compileFlags(flags: Readonly<Record<string, FlagConfig>>): CompiledFlags {
  if (last?.flags === flags) return last.compiled;
  let entry = compiled.get(flags);
  if (!entry) {
    const list = Object.entries(flags).map(([name, flag]) => ({
      name,
      flag,
      seedHash: fnv1a32(flag.seed ?? name),
      threshold: Math.round(flag.percent * 100),
    }));
    const template: Record<string, FlagResult> = {};
    for (const { name } of list) template[name] = RESULT.killed;
    entry = { list, template };
    compiled.set(flags, entry);
  }
  last = { flags, compiled: entry };
  return entry;
}

/**
 * Evaluates every flag for one visitor. Each flag hashes with its own seed (its name by
 * default), so flag cohorts are independent of each other and of the routing cohort.
 *
 * @example
 * evaluateFlags({ templates: { enabled: true, percent: 50, default: false } }, 'abc12345', NO_KILL);
 * // { templates: { value: true, reason: 'SPLIT' } }
 */
export function evaluateFlags(
  flags: Readonly<Record<string, FlagConfig>>,
  visitorId: string,
  kill: KillSwitch,
): Record<string, FlagResult> {
  const { list, template } = compileFlags(flags);
  // One object per visitor, cloned with its final shape; each flag's result is a shared constant.
  const results = { ...template };
  for (let i = 0; i < list.length; i++) results[list[i]!.name] = evaluateFlag(list[i]!, visitorId, kill);
  return results;
}

function evaluateFlag(
  { name, flag, seedHash, threshold }: CompiledFlag,
  visitorId: string,
  kill: KillSwitch,
): FlagResult {
  if (kill.allFlags || (kill.flags.size > 0 && kill.flags.has(name))) return RESULT.killed;
  if (!flag.enabled) return flag.default ? RESULT.disabledOn : RESULT.disabledOff;
  if (threshold >= 10_000) return RESULT.static;
  if (seededBucket(seedHash, visitorId) < threshold) return RESULT.split;
  return flag.default ? RESULT.defaultOn : RESULT.defaultOff;
}

/**
 * The flag → boolean map sent to the origin in `x-feature-flags`.
 *
 * @example
 * flagValues({ templates: { value: true, reason: 'SPLIT' } }); // { templates: true }
 */
export function flagValues(results: Readonly<Record<string, FlagResult>>): Record<string, boolean> {
  const values: Record<string, boolean> = {};
  for (const name in results) values[name] = results[name]!.value;
  return values;
}

/**
 * Every flag at its declared default (killed flags off): what the visitor gets when the splitter
 * cannot evaluate, as when it fails open to stable after a defect in its own code.
 *
 * @example
 * declaredDefaults({ a: { enabled: true, percent: 50, default: true } }, NO_KILL); // { a: true }
 */
export function declaredDefaults(
  flags: Readonly<Record<string, FlagConfig>>,
  kill: KillSwitch,
): Record<string, boolean> {
  const values: Record<string, boolean> = {};
  for (const [name, flag] of Object.entries(flags))
    values[name] = !(kill.allFlags || kill.flags.has(name)) && flag.default;
  return values;
}

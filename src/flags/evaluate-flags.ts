import type { FlagConfig } from '../config/config-schema';
import { bucket, inPercent } from '../hashing/bucket';
import type { KillSwitch } from '../kill/kill-switch';

/** Why a flag has its value (OpenFeature reasons, plus KILLED for the kill switch). */
export type FlagReason = 'STATIC' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'KILLED';

/** One flag's evaluation. Evaluation never throws. */
export interface FlagResult {
  value: boolean;
  reason: FlagReason;
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
  const results: Record<string, FlagResult> = {};
  for (const [name, flag] of Object.entries(flags)) results[name] = evaluateFlag(name, flag, visitorId, kill);
  return results;
}

function evaluateFlag(name: string, flag: FlagConfig, visitorId: string, kill: KillSwitch): FlagResult {
  if (kill.allFlags || kill.flags.has(name)) return { value: false, reason: 'KILLED' };
  if (!flag.enabled) return { value: flag.default, reason: 'DISABLED' };
  if (flag.percent >= 100) return { value: true, reason: 'STATIC' };
  if (inPercent(bucket(flag.seed ?? name, visitorId), flag.percent)) return { value: true, reason: 'SPLIT' };
  return { value: flag.default, reason: 'DEFAULT' };
}

/**
 * The flag → boolean map sent to the origin in `x-feature-flags`.
 *
 * @example
 * flagValues({ templates: { value: true, reason: 'SPLIT' } }); // { templates: true }
 */
export function flagValues(results: Readonly<Record<string, FlagResult>>): Record<string, boolean> {
  const values: Record<string, boolean> = {};
  for (const [name, result] of Object.entries(results)) values[name] = result.value;
  return values;
}

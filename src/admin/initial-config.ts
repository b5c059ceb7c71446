import type { RolloutConfig } from '../config/config-schema';
import { safeDefaultConfig } from '../config/safe-default';
import type { Settings } from '../env/settings-schema';

/**
 * The config that the first admin write starts from when KV holds none: the safe default
 * (version 0, everyone on stable, flags at DEFAULT_FLAGS) with the vars' origins written out,
 * so every stored version says where it routed.
 *
 * @example
 * initialConfig(settings).version; // 0
 */
export function initialConfig(
  settings: Pick<Settings, 'DEFAULT_FLAGS' | 'STABLE_ORIGIN' | 'CANARY_ORIGIN'>,
): RolloutConfig {
  return {
    ...safeDefaultConfig(settings.DEFAULT_FLAGS),
    origins: { stable: settings.STABLE_ORIGIN, canary: settings.CANARY_ORIGIN },
  };
}

import type { RolloutConfig } from './config-schema';
import { RolloutConfigSchema } from './config-schema';

/**
 * The config served when KV has never yielded a valid one: everyone on stable and every flag at
 * its declared default (from DEFAULT_FLAGS).
 *
 * @example
 * safeDefaultConfig({ analytics: true }).rollout.percent; // 0
 */
export function safeDefaultConfig(defaultFlags: Readonly<Record<string, boolean>>): RolloutConfig {
  const flags = Object.fromEntries(
    Object.entries(defaultFlags).map(([name, value]) => [
      name,
      { enabled: false, percent: 100, default: value },
    ]),
  );
  return RolloutConfigSchema.parse({
    version: 0,
    rollout: { percent: 0, salt: 'default', state: 'idle' },
    flags,
  });
}

import type { RolloutConfig } from '../../src/config/config-schema';
import { parseConfig } from '../../src/config/parse-config';
import { initialConfig } from '../../src/admin/apply-command';
import type { Settings } from '../../src/config/settings';

/**
 * The config as KV holds it right now: `stored` (valid), `absent` (the initial config stands in,
 * version 0) or `invalid` (the initial config stands in at the stored version, with the issues).
 */
export type StoredConfig =
  | { status: 'stored'; config: RolloutConfig }
  | { status: 'absent'; config: RolloutConfig }
  | { status: 'invalid'; config: RolloutConfig; issues: string[] };

/**
 * Interprets the raw `config` value, read fresh from KV (never the isolate cache): admin
 * commands must build on what is stored, not on what this isolate last saw.
 *
 * @example
 * storedConfig(await kv.get('config'), settings);
 */
export function storedConfig(text: string | null, settings: Settings): StoredConfig {
  if (text === null) return { status: 'absent', config: initialConfig(settings) };
  const parsed = parseConfig(text);
  if (parsed.ok) return { status: 'stored', config: parsed.config };
  // Keep the stored version so a repair still moves the version forward.
  return {
    status: 'invalid',
    config: { ...initialConfig(settings), version: storedVersion(text) },
    issues: parsed.issues,
  };
}

function storedVersion(text: string): number {
  try {
    const version = (JSON.parse(text) as { version?: unknown })?.version;
    return Number.isSafeInteger(version) && (version as number) >= 0 ? (version as number) : 0;
  } catch {
    return 0;
  }
}

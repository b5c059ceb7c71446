import type * as z from 'zod/mini';
import { parseJsonText } from '../../src/config/parse-json-text';
import { GuardVerdictRecordSchema, type GuardVerdictRecord } from '../../src/guard/verdict';
import type { StateBodySchema } from '../../src/admin/admin-responses';
import { killState } from '../../src/admin/kill-state';
import { GUARD_VERDICT_KEY } from '../../src/admin/storage-keys';
import type { Settings } from '../../src/env/settings-schema';
import { KILL_SWITCH_KEY } from '../../src/kill/kill-switch';
import type { ConfigStore } from '../../src/ports/config-store';
import { CONFIG_KEY } from '../kv-raw-config-source';
import { storedConfig } from './stored-config';

/** The body of `GET /state`. */
export type AdminState = z.infer<typeof StateBodySchema>;

/**
 * Reads the state fresh from KV in one bulk read (config, kill switch, guard verdict), never
 * from the isolate cache, so ops see what is stored. When the stored config is invalid, the
 * config shown is the one requests are being served with, plus the issues.
 *
 * @example
 * const state = await readAdminState(kv, settings, store);
 */
export async function readAdminState(
  kv: KVNamespace,
  settings: Settings,
  store: ConfigStore,
): Promise<AdminState> {
  const values = await kv.get([CONFIG_KEY, KILL_SWITCH_KEY, GUARD_VERDICT_KEY], 'text');
  const stored = storedConfig(values.get(CONFIG_KEY) ?? null, settings);
  let config = stored.config;
  let source: AdminState['source'] = stored.status === 'stored' ? 'kv' : 'safe-default';
  if (stored.status === 'invalid') {
    const snapshot = await store.read();
    config = snapshot.config;
    source = snapshot.source === 'safe-default' ? 'safe-default' : 'last-known-good';
  }
  return {
    // The stored version, which If-Match compares against (also when the stored value is invalid).
    version: stored.config.version,
    state: config.rollout.state,
    percent: config.rollout.percent,
    config,
    kill: killState(values.get(KILL_SWITCH_KEY) ?? null),
    source,
    guard: parseVerdict(values.get(GUARD_VERDICT_KEY) ?? null),
    ...(stored.status === 'invalid' ? { issues: stored.issues } : {}),
  };
}

// A verdict that is not the guard's shape (hand-edited, or from another version) shows as none.
function parseVerdict(text: string | null): GuardVerdictRecord | null {
  if (text === null) return null;
  const result = parseJsonText(text, GuardVerdictRecordSchema);
  return result.ok ? result.value : null;
}

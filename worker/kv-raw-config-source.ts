import { KILL_SWITCH_KEY } from '../src/kill/kill-switch';
import type { RawConfigSource } from '../src/ports/config-store';

/** KV key of the rollout config. */
export const CONFIG_KEY = 'config';

/**
 * Reads `config` and `kill` in one KV operation (a bulk get), so the kill switch costs no extra
 * read. KV's own edge cache adds up to ~60 s of propagation on top of the isolate cache.
 */
export class KvRawConfigSource implements RawConfigSource {
  constructor(private readonly kv: KVNamespace) {}

  async readRaw(): Promise<{ config: string | null; kill: string | null }> {
    const values = await this.kv.get([CONFIG_KEY, KILL_SWITCH_KEY], 'text');
    return { config: values.get(CONFIG_KEY) ?? null, kill: values.get(KILL_SWITCH_KEY) ?? null };
  }
}

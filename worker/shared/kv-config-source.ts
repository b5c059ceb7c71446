import { COMMITTED_KEY } from '../../src/config/committed-version';
import { API_KILL_SWITCH_KEY, BYPASS_KEY, CONFIG_KEY, KILL_SWITCH_KEY } from '../../src/config/config-schema';
import type { RawConfigSource, RawConfigValues } from '../../src/ports';

/**
 * Reads `config`, the hand-set `kill`, the API's `kill:api`, `committed` and the hand-set
 * `bypass` in one KV operation (a bulk get), so the kill and bypass switches cost no extra read. KV's own edge cache adds up to ~60 s of
 * propagation on top of the isolate cache.
 */
export class KvRawConfigSource implements RawConfigSource {
  constructor(private readonly kv: KVNamespace) {}

  async readRaw(): Promise<RawConfigValues> {
    const values = await this.kv.get(
      [CONFIG_KEY, KILL_SWITCH_KEY, API_KILL_SWITCH_KEY, COMMITTED_KEY, BYPASS_KEY],
      'text',
    );
    return {
      config: values.get(CONFIG_KEY) ?? null,
      kill: values.get(KILL_SWITCH_KEY) ?? null,
      apiKill: values.get(API_KILL_SWITCH_KEY) ?? null,
      committed: values.get(COMMITTED_KEY) ?? null,
      bypass: values.get(BYPASS_KEY) ?? null,
    };
  }
}

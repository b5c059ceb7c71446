import type { Settings } from '../../src/config/settings';
import type { Clock, ConfigStore, Logger } from '../../src/ports';

/** What a command needs from the Worker: KV, the isolate's config cache, time, logs, vars. */
export interface CommandContext {
  kv: KVNamespace;
  store: ConfigStore;
  clock: Clock;
  logger: Logger;
  settings: Settings;
  /** Waits between retries of a rate-limited KV write (default 250, 500, 1000 ms). */
  retryDelaysMs?: readonly number[];
}

/** Who asked, and on which version the change is based. */
export interface CommandOptions {
  /** `token`, `token:<label>`, an Access email, or `guard`. */
  actor: string;
  /** The version the caller saw; a different current version answers 412. */
  ifMatch?: number;
  reason?: string;
}

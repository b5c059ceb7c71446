import type { RolloutConfig } from '../config/config-schema';
import type { KillSwitch } from '../kill/kill-switch';

/** Where the config being served came from. */
export type ConfigSource = 'kv' | 'last-known-good' | 'safe-default';

/** The config and kill switch that requests are served with. */
export interface ConfigSnapshot {
  config: RolloutConfig;
  kill: KillSwitch;
  source: ConfigSource;
}

/** Serves the current config; implementations never throw and never make a request wait twice. */
export interface ConfigStore {
  read(): Promise<ConfigSnapshot>;
  /** Makes a config written by this isolate current at once (admin writes). */
  prime(config: RolloutConfig): void;
  /** Makes a kill switch value written by this isolate current at once (`null`: lifted). */
  primeKill(text: string | null): void;
}

/** The raw values behind a {@link ConfigStore}: the `config` and `kill` keys, read together. */
export interface RawConfigSource {
  /** One read of both keys; may throw (KV down), the store absorbs it. */
  readRaw(): Promise<{ config: string | null; kill: string | null }>;
}

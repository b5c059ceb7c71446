import type { CommittedValue, Head } from './config/committed-version';
import type { KillSwitch, RolloutConfig } from './config/config-schema';
import type { RequestMetric } from './metrics/data-point-schema';

/**
 * The core's ports: what it needs from the platform (time, the stored config, logs, metrics,
 * error reports). worker/ implements them with bindings; tests implement them in memory.
 */

/** Time, injected so that caches and the guard's bake time can be tested without waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Where the config being served came from: the KV replica, the control plane (a head refresh),
 * the last good value while KV fails, or the safe default when nothing valid was ever read.
 */
export type ConfigSource = 'kv' | 'control-plane' | 'last-known-good' | 'safe-default';

/** The config and kill switch that requests are served with. */
export interface ConfigSnapshot {
  config: RolloutConfig;
  kill: KillSwitch;
  source: ConfigSource;
  /** The control plane's epoch of this version (undefined: a legacy value or the safe default). */
  epoch?: number | undefined;
}

/** Serves the current config; implementations never throw and never make a request wait twice. */
export interface ConfigStore {
  read(): Promise<ConfigSnapshot>;
  /** The snapshot `read()` would resolve to now, when no read is needed for it; else undefined. */
  current?(): ConfigSnapshot | undefined;
  /** Makes a config written by this isolate current at once (admin writes); false when a newer one already is. */
  prime(config: RolloutConfig): boolean;
  /**
   * Makes the API kill switch written through this isolate current at once (`null`: lifted).
   * The hand-set kill switch stays in force beside it: `hand`, when the caller just read it,
   * otherwise the one this isolate last read.
   */
  primeKill(text: string | null, hand?: string | null): void;
  /** The (epoch, version) served now, or undefined before any committed version (head refresh). */
  head?(): Head | undefined;
  /** Takes a committed version from the control plane; false (ignored) unless it is newer. */
  offer?(value: CommittedValue): boolean;
}

/**
 * The raw values behind a {@link ConfigStore}, read together: `config`, the hand-set `kill`,
 * the API's `kill:api`, `committed` (config + API kill + epoch in one value) and the hand-set
 * `bypass`. Sources with
 * fewer keys leave the others out.
 */
export interface RawConfigSource {
  /** One read of all keys; may throw (KV down), the store absorbs it. */
  readRaw(): Promise<RawConfigValues>;
}

/** The raw KV values a {@link RawConfigSource} reads. */
export interface RawConfigValues {
  config: string | null;
  kill: string | null;
  apiKill?: string | null;
  committed?: string | null;
  /** The hand-set bypass switch (KV `bypass`). */
  bypass?: string | null;
}

/** Structured logging; adapters write JSON lines that Workers Logs can query. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Wraps a logger so that logging can never break a request: a throwing logger is silenced. */
export function safeLogger(inner: Logger): Logger {
  const guard =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      try {
        inner[level](message, fields);
      } catch {
        // Nothing sensible to do: logging is best effort.
      }
    };
  return { info: guard('info'), warn: guard('warn'), error: guard('error') };
}

/** A logger that writes one JSON line per entry to the console. */
export const consoleLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: 'warn', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', message, ...fields })),
};

/** Where per-request metrics go (Analytics Engine in production). Must not throw or block. */
export interface MetricsSink {
  record(metric: RequestMetric): void;
}

/** Context attached to a reported error. */
export interface ErrorContext {
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
}

/** Where exceptions and notable events go (Sentry in production). Implementations never throw. */
export interface ErrorReporter {
  captureException(error: unknown, context?: ErrorContext): void;
  captureMessage(message: string, level: 'info' | 'warning' | 'error', context?: ErrorContext): void;
}

/** A reporter that drops everything (Sentry off). */
export const nullErrorReporter: ErrorReporter = {
  captureException: () => {},
  captureMessage: () => {},
};

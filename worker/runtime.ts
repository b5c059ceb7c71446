import { CachedConfigStore } from '../src/config/cached-config-store';
import { safeDefaultConfig } from '../src/config/safe-default';
import { parseSettings } from '../src/env/parse-settings';
import { systemClock } from '../src/ports/clock';
import { consoleLogger, safeLogger } from '../src/ports/logger';
import { overrideReader } from './admin/override-reader';
import type { AppDeps } from './app-deps';
import type { Env } from './env';
import { KvRawConfigSource } from './kv-raw-config-source';
import { metricsSinkFor } from './metrics/analytics-engine-sink';
import { errorReporterFactory } from './sentry/error-reporter-factory';

/** Per-isolate deps, or the issues that make the Worker's vars unusable. */
export type RuntimeResult = { ok: true; deps: AppDeps } | { ok: false; issues: string[] };

/**
 * Builds the app's deps from the Worker's env. Called once per isolate: the config cache and
 * the parsed settings live as long as the isolate does.
 */
export function buildRuntime(env: Env): RuntimeResult {
  const parsed = parseSettings(env as unknown as Record<string, unknown>);
  if (!parsed.ok) return parsed;
  const settings = parsed.settings;
  const logger = safeLogger(consoleLogger);
  const store = new CachedConfigStore(new KvRawConfigSource(env.ROLLOUT), {
    ttlMs: settings.CONFIG_CACHE_SECONDS * 1000,
    clock: systemClock,
    logger,
    safeDefault: safeDefaultConfig(settings.DEFAULT_FLAGS),
  });
  const workerVersion = env.CF_VERSION_METADATA?.id ?? 'dev';
  const deps: AppDeps = {
    settings,
    kv: env.ROLLOUT,
    store,
    clock: systemClock,
    logger,
    fetch: (input, init) => fetch(input, init),
    metrics: metricsSinkFor(env.METRICS, logger),
    errorReporterFor: errorReporterFactory(settings, workerVersion, logger),
    workerVersion,
    readOverride: overrideReader(settings.OVERRIDE_SECRET, systemClock),
  };
  return { ok: true, deps };
}

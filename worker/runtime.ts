import { CachedConfigStore } from '../src/config/cached-config-store';
import {
  API_KILL_SWITCH_KEY,
  CONFIG_KEY,
  KILL_SWITCH_KEY,
  safeDefaultConfig,
} from '../src/config/config-schema';
import { parseSettings, type Settings } from '../src/config/settings';
import {
  consoleLogger,
  nullErrorReporter,
  safeLogger,
  systemClock,
  type ErrorReporter,
  type Logger,
  type RawConfigSource,
} from '../src/ports';
import { overrideReader } from './admin/override-links';
import type { AppDeps } from './app';
import { controlPlaneFor } from './control/control-plane';
import type { Env } from './env';
import { metricsSinkForEnv } from './metrics-collector-sink';
import { sentryOptionsFrom } from './sentry/sentry-policy';
import { toucanReporterFactory } from './sentry/toucan-reporter';

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
    control: controlPlaneFor(env.CONTROL, settings, logger),
    store,
    clock: systemClock,
    logger,
    fetch: (input, init) => fetch(input, init),
    metrics: metricsSinkForEnv(env, logger),
    errorReporterFor: errorReporterFactory(settings, workerVersion, logger),
    workerVersion,
    readOverride: overrideReader(settings.OVERRIDE_SECRET, systemClock),
  };
  return { ok: true, deps };
}

/**
 * Reads `config`, the hand-set `kill` and the API's `kill:api` in one KV operation (a bulk get),
 * so the kill switches cost no extra read. KV's own edge cache adds up to ~60 s of propagation
 * on top of the isolate cache.
 */
export class KvRawConfigSource implements RawConfigSource {
  constructor(private readonly kv: KVNamespace) {}

  async readRaw(): Promise<{ config: string | null; kill: string | null; apiKill: string | null }> {
    const values = await this.kv.get([CONFIG_KEY, KILL_SWITCH_KEY, API_KILL_SWITCH_KEY], 'text');
    return {
      config: values.get(CONFIG_KEY) ?? null,
      kill: values.get(KILL_SWITCH_KEY) ?? null,
      apiKill: values.get(API_KILL_SWITCH_KEY) ?? null,
    };
  }
}

/** Creates the error reporter for one request. */
export type ErrorReporterFor = (
  request: Request,
  waitUntil: (promise: Promise<unknown>) => void,
) => ErrorReporter;

/**
 * The `errorReporterFor` of AppDeps (and of a cron run): Sentry when SENTRY_DSN is set and
 * valid, otherwise a reporter that drops everything. Settings are read once, here, not per
 * request.
 */
export function errorReporterFactory(
  settings: Settings,
  workerVersion: string,
  logger: Logger,
): ErrorReporterFor {
  const sentry = sentryOptionsFrom(settings, logger);
  return sentry ? toucanReporterFactory({ ...sentry, workerVersion }) : () => nullErrorReporter;
}

import { CachedConfigStore } from '../../src/config/cached-config-store';
import { safeDefaultConfig } from '../../src/config/safe-default';
import type { Settings } from '../../src/env/settings-schema';
import { createAnalyticsSqlClient, type SqlFetch } from '../../src/guard/analytics-sql-client';
import type { GuardDeps } from '../../src/guard/guard-deps';
import type { GuardSettings } from '../../src/guard/guard-settings';
import { readWindowStats } from '../../src/guard/read-window-stats';
import { createWebhookNotifier, nullNotifier } from '../../src/guard/webhook-notifier';
import type { Clock } from '../../src/ports/clock';
import type { ErrorReporter } from '../../src/ports/error-reporter';
import type { Logger } from '../../src/ports/logger';
import type { Env } from '../env';
import { KvRawConfigSource } from '../kv-raw-config-source';
import { adminRolloutCommands } from './admin-rollout-commands';
import { KvGuardStateStore } from './kv-guard-state-store';

/** The per-run ports the scheduled handler provides. */
export interface GuardRunPorts {
  clock: Clock;
  logger: Logger;
  reporter: ErrorReporter;
  fetch: SqlFetch;
}

/**
 * Wires one guard run to the Worker: KV for the config, verdict and incident, the SQL API for
 * stats, the admin command path for actions, the webhook for notices. The config store is built
 * per run with no caching, so each run judges what KV holds now.
 *
 * @example
 * const deps = buildGuardDeps(env, settings, guardSettings, { clock, logger, reporter, fetch });
 * await runGuard(deps);
 */
export function buildGuardDeps(
  env: Env,
  settings: Settings,
  guard: GuardSettings,
  ports: GuardRunPorts,
): GuardDeps {
  const { clock, logger, reporter } = ports;
  const store = new CachedConfigStore(new KvRawConfigSource(env.ROLLOUT), {
    ttlMs: 0,
    clock,
    logger,
    safeDefault: safeDefaultConfig(settings.DEFAULT_FLAGS),
  });
  const sql = createAnalyticsSqlClient({ ...guard.sql, fetch: ports.fetch });
  return {
    readConfig: () => store.read(),
    stats: { read: (window) => readWindowStats(sql, guard.dataset, window) },
    commands: adminRolloutCommands({ kv: env.ROLLOUT, store, clock, logger, settings }),
    state: new KvGuardStateStore(env.ROLLOUT, logger),
    notifier: guard.webhookUrl
      ? createWebhookNotifier({ url: guard.webhookUrl, fetch: ports.fetch, logger })
      : nullNotifier,
    reporter,
    logger,
    clock,
    environment: settings.ENVIRONMENT,
  };
}

import type * as z from 'zod/mini';
import { CachedConfigStore } from '../src/config/cached-config-store';
import { safeDefaultConfig } from '../src/config/config-schema';
import { parseJsonText } from '../src/config/parse-config';
import type { Settings } from '../src/config/settings';
import { createAnalyticsSqlClient, readWindowStats, type SqlFetch } from '../src/guard/analytics-sql';
import { GuardVerdictRecordSchema, type GuardVerdictRecord } from '../src/guard/analyze-canary';
import { createWebhookNotifier, nullNotifier } from '../src/guard/guard-notifier';
import {
  GUARD_INCIDENT_KEY,
  GUARD_VERDICT_KEY,
  type GuardCommandResult,
  type GuardDeps,
  type GuardStateStore,
  type RolloutCommands,
} from '../src/guard/guard-ports';
import type { GuardSettings } from '../src/guard/guard-settings';
import { GuardIncidentSchema, type GuardIncident } from '../src/guard/handle-breach';
import type { Clock, ErrorReporter, Logger } from '../src/ports';
import { executeCommand, type CommandContext, type CommandResult } from './admin/execute-command';
import type { Env } from './env';
import { KvRawConfigSource } from './runtime';

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

/** The actor the guard's commands are audited under. */
const GUARD_ACTOR = 'guard';

/**
 * The guard's rollout commands, through the admin API's own execution path: validated,
 * versioned, kept in history, audited (actor `guard`) and primed into the isolate's cache.
 *
 * @example
 * const commands = adminRolloutCommands(commandContext);
 * await commands.abort('guard: canary p95 2400 ms > 2000 ms');
 */
export function adminRolloutCommands(ctx: CommandContext): RolloutCommands {
  return {
    async abort(reason) {
      return outcome(await executeCommand(ctx, { type: 'abort', reason }, { actor: GUARD_ACTOR, reason }));
    },
    async setPercent(percent, { ifMatch, reason }) {
      return outcome(
        await executeCommand(ctx, { type: 'set-percent', percent }, { actor: GUARD_ACTOR, ifMatch, reason }),
      );
    },
  };
}

function outcome(result: CommandResult): GuardCommandResult {
  return result.ok
    ? { ok: true, version: result.config.version }
    : { ok: false, status: result.status, error: result.error };
}

/**
 * The guard's verdict and incident in the ROLLOUT namespace. Values are validated on the way
 * in, so a hand-edited or corrupt key reads as absent (and is logged), never as a crash. KV
 * failures are logged and swallowed: the guard's next run tries again.
 */
export class KvGuardStateStore implements GuardStateStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly logger: Logger,
  ) {}

  readVerdict(): Promise<GuardVerdictRecord | undefined> {
    return this.read(GUARD_VERDICT_KEY, GuardVerdictRecordSchema);
  }

  writeVerdict(record: GuardVerdictRecord): Promise<void> {
    return this.write(GUARD_VERDICT_KEY, record);
  }

  readIncident(): Promise<GuardIncident | undefined> {
    return this.read(GUARD_INCIDENT_KEY, GuardIncidentSchema);
  }

  writeIncident(incident: GuardIncident): Promise<void> {
    return this.write(GUARD_INCIDENT_KEY, incident);
  }

  private async read<T>(key: string, schema: z.ZodMiniType<T>): Promise<T | undefined> {
    let text: string | null;
    try {
      text = await this.kv.get(key, 'text');
    } catch (error) {
      this.logger.warn('guard state unreadable', { key, error: String(error) });
      return undefined;
    }
    if (text === null) return undefined;
    const parsed = parseJsonText(text, schema);
    if (parsed.ok) return parsed.value;
    this.logger.warn('guard state is invalid; ignored', { key, issues: parsed.issues.slice(0, 3) });
    return undefined;
  }

  private async write(key: string, value: unknown): Promise<void> {
    try {
      await this.kv.put(key, JSON.stringify(value));
    } catch (error) {
      this.logger.error('guard state not saved', { key, error: String(error) });
    }
  }
}

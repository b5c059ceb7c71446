import { kvReadFailed, kvWriteFailed, versionMismatch } from './command-failures';
import type { AdminCommand } from '../../src/admin/lifecycle';
import { applyCommand } from '../../src/admin/apply-command';
import { historyKey, randomText } from '../../src/admin/history-and-audit';
import { CONFIG_KEY, type RolloutConfig } from '../../src/config/config-schema';
import { recordAudit } from './audit-log';
import type { CommandContext, CommandOptions } from './command-context';
import { readHistory } from './config-history';
import { writeWithRetry } from './kv-retry';
import { oneWriterAtATime } from './one-writer-at-a-time';
import { storedConfig, type StoredConfig } from './stored-config';

export type { AdminCommand } from '../../src/admin/lifecycle';
export type { CommandContext, CommandOptions } from './command-context';

/** The outcome of a command: the new and the previous config, or an HTTP-ready failure. */
export type CommandResult =
  | { ok: true; config: RolloutConfig; previous: RolloutConfig }
  | {
      ok: false;
      status: 400 | 409 | 412 | 503;
      error: string;
      issues?: string[];
      retryAfterSeconds?: number;
    };

/**
 * The one path every config change takes (admin routes, CLI, Cron guard). It reads the config
 * fresh from KV, applies the pure command, and on success writes `history:<v>` then `config`
 * (retrying KV's per-key rate limit), then one audit entry, and primes this isolate's cache.
 * A failed write changes nothing: history is written first and removed again if `config` fails.
 * Writes from one isolate run one at a time, so none builds on a version another is replacing.
 *
 * @example
 * const result = await executeCommand(ctx, { type: 'abort', reason: 'p95 breach' }, { actor: 'guard' });
 * if (!result.ok) return c.json({ error: result.error }, result.status);
 */
export function executeCommand(
  ctx: CommandContext,
  command: AdminCommand,
  options: CommandOptions,
): Promise<CommandResult> {
  return oneWriterAtATime(ctx.kv, () => execute(ctx, command, options));
}

async function execute(
  ctx: CommandContext,
  command: AdminCommand,
  options: CommandOptions,
): Promise<CommandResult> {
  let current: StoredConfig;
  try {
    current = storedConfig(await ctx.kv.get(CONFIG_KEY, 'text'), ctx.settings);
  } catch (error) {
    return kvReadFailed(ctx, 'admin command', error);
  }
  if (current.status === 'invalid' && command.type !== 'replace-config' && command.type !== 'undo')
    return {
      ok: false,
      status: 409,
      error: 'the config in KV is invalid; replace it with PUT /config (or undo)',
      issues: current.issues,
    };
  const previous = current.config;
  const stale = versionMismatch(options.ifMatch, previous.version);
  if (stale) return stale;
  const applied = applyCommand(previous, command, {
    now: ctx.clock.now(),
    newSalt: () => randomText(16),
    origins: { stable: ctx.settings.STABLE_ORIGIN, canary: ctx.settings.CANARY_ORIGIN },
    undoTarget: command.type === 'undo' ? await readHistory(ctx.kv, previous.version - 1) : undefined,
  });
  if (!applied.ok) return applied;
  const config = applied.config;
  const failure = await writeVersion(ctx, current, config);
  if (failure) return failure;
  ctx.store.prime(config);
  const reason = options.reason ?? (command.type === 'abort' ? command.reason : undefined);
  await recordAudit(ctx, {
    actor: options.actor,
    action: command.type,
    before: previous,
    after: config,
    version: config.version,
    reason,
  });
  return { ok: true, config, previous };
}

async function writeVersion(
  ctx: CommandContext,
  current: StoredConfig,
  config: RolloutConfig,
): Promise<Extract<CommandResult, { ok: false }> | undefined> {
  const text = JSON.stringify(config);
  // The first write also keeps the starting point (version 0), so even it can be undone.
  const history: [string, string][] = [[historyKey(config.version), text]];
  if (current.status === 'absent')
    history.unshift([historyKey(current.config.version), JSON.stringify(current.config)]);
  const written: string[] = [];
  try {
    for (const [key, value] of history) {
      await writeWithRetry(key, () => ctx.kv.put(key, value), ctx.retryDelaysMs);
      written.push(key);
    }
    await writeWithRetry(CONFIG_KEY, () => ctx.kv.put(CONFIG_KEY, text), ctx.retryDelaysMs);
    return undefined;
  } catch (error) {
    // The version never became current: its history must not outlive it.
    await Promise.all(written.map((key) => ctx.kv.delete(key).catch(() => undefined)));
    return kvWriteFailed(ctx, 'admin command', error);
  }
}

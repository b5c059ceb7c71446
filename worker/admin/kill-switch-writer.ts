import { kvReadFailed, kvWriteFailed, versionMismatch } from './command-failures';
import { killSwitchText, type KillRequest } from '../../src/admin/kill-switch-text';
import { KILL_SWITCH_KEY, CONFIG_KEY, type RolloutConfig } from '../../src/config/config-schema';
import { recordAudit } from './audit-log';
import type { CommandContext, CommandOptions } from './command-context';
import type { CommandResult } from './execute-command';
import { writeWithRetry } from './kv-retry';
import { oneWriterAtATime } from './one-writer-at-a-time';
import { storedConfig } from './stored-config';

/** The kill switch after a write, with the (unchanged) config it applies to. */
export type KillWriteResult =
  { ok: true; config: RolloutConfig; kill: string | null } | Extract<CommandResult, { ok: false }>;

/**
 * Sets (`request`) or lifts (`null`) the kill switch: writes the `kill` key in the same token
 * format `wrangler kv key put` uses, then one audit entry (`kill` / `unkill`). Flags must exist
 * in the config, so a typo cannot leave a flag on while ops believe it is off.
 *
 * @example
 * await writeKillSwitch(ctx, { canary: true }, { actor: 'token' });
 */
export function writeKillSwitch(
  ctx: CommandContext,
  request: KillRequest | null,
  options: CommandOptions,
): Promise<KillWriteResult> {
  return oneWriterAtATime(ctx.kv, () => write(ctx, request, options));
}

async function write(
  ctx: CommandContext,
  request: KillRequest | null,
  options: CommandOptions,
): Promise<KillWriteResult> {
  let values: Map<string, string | null>;
  try {
    values = await ctx.kv.get([CONFIG_KEY, KILL_SWITCH_KEY], 'text');
  } catch (error) {
    return kvReadFailed(ctx, 'kill switch', error);
  }
  const current = storedConfig(values.get(CONFIG_KEY) ?? null, ctx.settings);
  const before = values.get(KILL_SWITCH_KEY) ?? null;
  const stale = versionMismatch(options.ifMatch, current.config.version);
  if (stale) return stale;
  const unknown = (request?.flags ?? []).filter((name) => !Object.hasOwn(current.config.flags, name));
  if (current.status !== 'invalid' && unknown.length)
    return {
      ok: false,
      status: 400,
      error: 'unknown flags',
      issues: unknown.map(
        (name) =>
          `flags: "${name}" is not in the config (known: ${Object.keys(current.config.flags).join(', ')})`,
      ),
    };
  const after = request ? killSwitchText(request) : null;
  try {
    await writeWithRetry(
      KILL_SWITCH_KEY,
      () => (after === null ? ctx.kv.delete(KILL_SWITCH_KEY) : ctx.kv.put(KILL_SWITCH_KEY, after)),
      ctx.retryDelaysMs,
    );
  } catch (error) {
    return kvWriteFailed(ctx, 'kill switch', error);
  }
  ctx.store.primeKill(after);
  ctx.logger.warn(after === null ? 'kill switch lifted' : 'kill switch set', {
    value: after,
    actor: options.actor,
  });
  await recordAudit(ctx, {
    actor: options.actor,
    action: after === null ? 'unkill' : 'kill',
    before: { kill: before },
    after: { kill: after },
    version: current.config.version,
    reason: options.reason,
  });
  return { ok: true, config: current.config, kill: after };
}

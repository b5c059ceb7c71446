import type { GuardCommandResult, RolloutCommands } from '../../src/guard/guard-ports';
import { executeCommand, type CommandContext, type CommandResult } from '../admin/execute-command';

/** The actor the guard's commands are audited under. */
export const GUARD_ACTOR = 'guard';

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

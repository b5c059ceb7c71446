import type { AdminClient } from './admin-client';
import type { CliCommand } from './cli-command';
import type { KillTargets } from './command-arguments';
import { formatAudit } from './format-audit';
import { formatStatus } from './format-status';
import { formatWriteResult } from './format-write-result';
import { readAudit } from './read-audit';

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  json: boolean;
  nowMs: number;
}

/**
 * Sends one validated command and returns what to print: the API's JSON for `--json`, text for
 * people otherwise. API failures are thrown (see cli-errors.ts).
 *
 * @example
 * const text = await runCommand({ name: 'set', percent: 10 }, client, { json: false, nowMs: Date.now() });
 */
export async function runCommand(
  command: CliCommand,
  client: AdminClient,
  options: RunCommandOptions,
): Promise<string> {
  const print = (raw: unknown, text: string) => (options.json ? JSON.stringify(raw, null, 2) : text);
  switch (command.name) {
    case 'health': {
      const { raw } = await client.health();
      return print(raw, 'The admin API is up.');
    }
    case 'status': {
      const { data, raw } = await client.state();
      return print(raw, formatStatus(data));
    }
    case 'audit': {
      const { entries, raw, cursor } = await readAudit(client, command, options.nowMs);
      return print({ entries: raw, cursor }, formatAudit(entries, cursor));
    }
    case 'set': {
      const { data, raw } = await client.setPercent(command.percent, command.reason);
      return print(raw, formatWriteResult(command, data));
    }
    case 'flag': {
      const { flag, name: _, ...change } = command;
      const { data, raw } = await client.setFlag(flag, change);
      return print(raw, formatWriteResult(command, data));
    }
    case 'kill': {
      const result =
        command.targets === 'off'
          ? await client.unkill(command.reason)
          : await client.kill(await withCurrentKill(client, command.targets), command.reason);
      return print(result.raw, formatWriteResult(command, result.data));
    }
    default: {
      const { data, raw } = await client.transition(command.name, command.reason);
      return print(raw, formatWriteResult(command, data));
    }
  }
}

// PUT /kill replaces the whole switch; killing one flag must not lift a canary kill set earlier.
async function withCurrentKill(client: AdminClient, targets: KillTargets): Promise<KillTargets> {
  const { kill } = (await client.state()).data;
  return {
    canary: targets.canary || kill.canary,
    allFlags: targets.allFlags || kill.allFlags,
    flags: [...new Set([...kill.flags, ...targets.flags])],
  };
}

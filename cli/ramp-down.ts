import type { AdminClient } from './admin-client';
import type { CliCommand } from './commands';
import { formatPercent } from './format-output';

// Lowering the canary percent sends canary visitors back to stable: they lose what they were
// using, mid-session. On a terminal the preview (preview.ts) shows the move and asks. A script
// has nobody to ask, so a ramp-down sent without a terminal must say `--yes` in advance. Every
// other write a script sends goes out at once: an abort or a kill never waits for anyone.

/** What the command line and the terminal allow, as {@link unconfirmedRampDown} reads them. */
export interface RampDownOptions {
  /** `--yes`: the change is confirmed in advance. */
  yes: boolean;
  /** A person can answer the preview's question. */
  interactive: boolean;
  /** `--preview`: nothing is sent anyway. */
  previewOnly: boolean;
}

/**
 * The refusal of a ramp-down sent without a terminal and without `--yes`, as lines to print, or
 * undefined when the command may go ahead. Reads the current state only for `set` in a script.
 *
 * @example
 * await unconfirmedRampDown({ name: 'set', percent: 30 }, client, { yes: false, interactive: false, previewOnly: false });
 * // ['error: set 30 moves 20 % of visitors from canary back to stable (canary 50 % → 30 %).', …]
 */
export async function unconfirmedRampDown(
  command: CliCommand,
  client: AdminClient,
  options: RampDownOptions,
): Promise<string[] | undefined> {
  if (command.name !== 'set' || options.yes || options.interactive || options.previewOnly) return undefined;
  const { percent: current } = (await client.state()).data;
  if (command.percent >= current) return undefined;
  return [
    `error: set ${command.percent} ${describeRampDown(current, command.percent)}.`,
    'Nothing was sent. Confirm it on a terminal, or pass --yes to confirm it in advance.',
  ];
}

/**
 * What lowering the percent does to visitors, in words: the canary's buckets below the new
 * percent stay, the ones above it go back to stable, so exactly the difference moves.
 *
 * @example
 * describeRampDown(50, 30); // 'moves 20 % of visitors from canary back to stable (canary 50 % → 30 %)'
 */
export function describeRampDown(from: number, to: number): string {
  return `moves ${formatPercent(from - to)} of visitors from canary back to stable (canary ${formatPercent(from)} → ${formatPercent(to)})`;
}

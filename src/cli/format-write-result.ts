import type { KillResult, WriteResult } from './admin-client';
import type { CliCommand } from './cli-command';
import { formatPercent } from './format-percent';
import { describeKill } from './format-status';

const DONE: Record<string, string> = {
  promote: 'Promoted',
  finalize: 'Finalized',
  abort: 'Aborted',
  pause: 'Paused',
  resume: 'Resumed',
  undo: 'Restored the previous version',
};

/**
 * One line confirming an accepted write, with the new version and what now holds.
 *
 * @example
 * formatWriteResult({ name: 'set', percent: 10 }, result); // 'Canary at 10 %: state ramping, config version 4.'
 */
export function formatWriteResult(command: CliCommand, result: WriteResult | KillResult): string {
  const { rollout, flags } = result.config;
  const where = `state ${rollout.state}, canary at ${formatPercent(rollout.percent)}, config version ${result.version}`;
  if ('kill' in result) return `Kill switch ${describeKill(result.kill)} (${where}).`;
  switch (command.name) {
    case 'set':
      return `Canary at ${formatPercent(rollout.percent)}: state ${rollout.state}, config version ${result.version}.`;
    case 'flag': {
      const flag = flags[command.flag];
      const now = flag?.enabled ? `on for ${formatPercent(flag.percent)} of visitors` : 'off';
      return `Flag ${command.flag} ${now} (config version ${result.version}).`;
    }
    default:
      return `${DONE[command.name] ?? command.name}: ${where}.`;
  }
}

import type { StateBody } from './admin-client';
import { formatGuardVerdict } from './format-guard-verdict';
import { formatPercent } from './format-percent';
import { formatTable } from './format-table';

/**
 * `npx rollout status` for people: state, percent, version, kill switch, flags and the guard.
 *
 * @example
 * console.log(formatStatus((await client.state()).data));
 */
export function formatStatus(state: StateBody): string {
  const { rollout } = state.config;
  const lines = [
    `State     ${state.state}`,
    `Percent   ${formatPercent(state.percent)}`,
    `Version   ${state.version} (config from ${state.source})`,
    `Kill      ${describeKill(state.kill)}`,
  ];
  if (rollout.steps?.length) {
    lines.push(
      `Steps     ${rollout.steps.map(formatPercent).join(' → ')}, ${rollout.bakeMinutes} min bake each`,
    );
  }
  for (const issue of state.issues ?? []) lines.push(`Invalid   ${issue}`);
  lines.push('', ...formatFlags(state), '', ...formatGuardVerdict(state.guard));
  return lines.join('\n');
}

/**
 * The kill switch in words.
 *
 * @example
 * describeKill({ canary: true, allFlags: false, flags: ['templates'], raw: 'canary flag:templates' });
 * // 'ON: canary stopped (everyone on stable); flags forced off: templates'
 */
export function describeKill(kill: StateBody['kill']): string {
  const parts: string[] = [];
  if (kill.canary) parts.push('canary stopped (everyone on stable)');
  if (kill.allFlags) parts.push('every flag forced off');
  if (kill.flags.length) parts.push(`flags forced off: ${kill.flags.join(', ')}`);
  return parts.length ? `ON: ${parts.join('; ')}` : 'off';
}

function formatFlags(state: StateBody): string[] {
  const entries = Object.entries(state.config.flags);
  if (entries.length === 0) return ['Flags     none configured'];
  const killed = (name: string) => state.kill.allFlags || state.kill.flags.includes(name);
  const rows = entries.map(([name, flag]) => [
    name,
    flag.enabled ? 'on' : 'off',
    formatPercent(flag.percent),
    flag.default ? 'on' : 'off',
    killed(name) ? 'KILLED' : '-',
  ]);
  return [
    'Flags',
    ...formatTable(['flag', 'enabled', 'percent', 'default', 'kill'], rows)
      .split('\n')
      .map((l) => `  ${l}`),
  ];
}

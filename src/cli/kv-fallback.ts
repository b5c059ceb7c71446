import { killSwitchText } from '../admin/kill-switch-text';
import { KILL_SWITCH_KEY } from '../kill/kill-switch';
import type { CliCommand } from './cli-command';

/** The KV binding that holds the config and the kill switch (wrangler.toml). */
export const ROLLOUT_KV_BINDING = 'ROLLOUT';

/**
 * The `wrangler kv key` command that does what a kill (or abort) does, for when the admin API
 * is down: ops run it by hand, or rollback.sh runs it. Undefined for commands with no KV
 * equivalent.
 *
 * @example
 * kvFallbackCommand({ name: 'kill', targets: { canary: true, allFlags: false, flags: [] } }, 'production');
 * // 'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env production'
 */
export function kvFallbackCommand(command: CliCommand, env?: string): string | undefined {
  const where = `--remote${env ? ` --env ${env}` : ''}`;
  const put = (value: string) =>
    `npx wrangler kv key put --binding=${ROLLOUT_KV_BINDING} ${KILL_SWITCH_KEY} "${value}" ${where}`;
  if (command.name === 'abort') return put(killSwitchText({ canary: true }));
  if (command.name !== 'kill') return undefined;
  if (command.targets === 'off') {
    return `npx wrangler kv key delete --binding=${ROLLOUT_KV_BINDING} ${KILL_SWITCH_KEY} ${where}`;
  }
  return put(killSwitchText(command.targets));
}

/**
 * The words around the fallback command: what it does and what it does not.
 *
 * @example
 * console.error(kvFallbackAdvice(command, env).join('\n'));
 */
export function kvFallbackAdvice(command: CliCommand, env?: string): string[] {
  const fallback = kvFallbackCommand(command, env);
  if (!fallback) return [];
  const lines = [
    'The admin API is not working. The same through KV directly (takes effect within ~60 s):',
    '',
    `  ${fallback}`,
    '',
  ];
  if (command.name === 'kill' && command.targets !== 'off') {
    lines.push(
      'This replaces the whole kill switch value: name every target to keep. The current value:',
      `  npx wrangler kv key get --binding=${ROLLOUT_KV_BINDING} ${KILL_SWITCH_KEY} --remote${env ? ` --env ${env}` : ''}`,
    );
  }
  if (command.name === 'abort') {
    lines.push('The kill switch holds everyone on stable until lifted: npx rollout kill off');
  }
  return lines;
}

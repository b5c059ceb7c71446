import { COMMAND_SPECS, type CommandSpec } from './command-specs';
import { EXIT_CODES } from './exit-codes';

const GLOBAL_OPTIONS = [
  '--url URL       the Worker URL (env ROLLOUT_URL), e.g. https://app.example.com',
  '--token TOKEN   the admin token (env ROLLOUT_TOKEN; prefer the env var: flags show in ps)',
  '--actor LABEL   who you are, for the audit log (env ROLLOUT_ACTOR; 1–64 chars [A-Za-z0-9_.@-])',
  '--prefix PATH   the admin prefix (env ROLLOUT_PREFIX; default /__rollout)',
  '--env NAME      wrangler environment for printed KV fallback commands (env ROLLOUT_ENV)',
  '--json          print the API answer as JSON (for scripts)',
  '-h, --help      help for the CLI or a command',
];

const EXITS = [
  `${EXIT_CODES.ok}  done`,
  `${EXIT_CODES.api}  the admin API answered with an error (400, 401, 409, 412, 429, 5xx)`,
  `${EXIT_CODES.usage}  bad command line: nothing was sent`,
  `${EXIT_CODES.unreachable}  the admin API could not be reached`,
];

/**
 * `npx rollout --help`.
 *
 * @example
 * console.log(generalHelp());
 */
export function generalHelp(): string {
  return [
    'npx rollout <command> [options]: drive an edge-rollout launch through its admin API.',
    '',
    'Commands:',
    // Usage and summary on separate lines: the kill usage alone is 60 characters wide.
    ...COMMAND_SPECS.flatMap((spec) => [`  ${spec.usage}`, `      ${spec.summary}`]),
    '',
    'Options:',
    ...GLOBAL_OPTIONS.map((line) => `  ${line}`),
    '',
    'Exit codes:',
    ...EXITS.map((line) => `  ${line}`),
    '',
    'npx rollout <command> --help shows a command in detail.',
  ].join('\n');
}

/**
 * `npx rollout <command> --help`.
 *
 * @example
 * console.log(commandHelp(COMMAND_SPECS[0]!));
 */
export function commandHelp(spec: CommandSpec): string {
  return [
    `npx rollout ${spec.usage}`,
    '',
    spec.summary,
    ...(spec.details.length ? ['', ...spec.details.map((line) => `  ${line}`)] : []),
    '',
    'Examples:',
    ...spec.examples.map((line) => `  ${line}`),
    '',
    'Global options (--url, --token, --actor, --json, …) and exit codes: npx rollout --help',
  ].join('\n');
}

/**
 * The usage line shown under a usage error.
 *
 * @example
 * usageLine(spec); // 'usage: npx rollout set <percent> [--reason TEXT]'
 */
export function usageLine(spec?: CommandSpec): string {
  return spec
    ? `usage: npx rollout ${spec.usage}`
    : 'usage: npx rollout <command> [options] (npx rollout --help)';
}

import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { ActorLabelSchema } from '../src/admin/admin-schemas';
import { describeIssues } from '../src/config/parse-config';
import {
  COMMAND_SPECS,
  type CliCommand,
  type CommandInput,
  type CommandOption,
  type CommandSpec,
} from './commands';
import { EXIT_CODES, UsageError } from './errors';
import { parseTokenCommandLine, TOKEN_USAGE } from './token-command';
import { isOpsCommand, opsHelp, parseOpsCommandLine } from './ops-command-line';

// The command line of `npx rollout`: where to connect (flags over env vars), which command with
// which arguments, and the help text, all read from the command table in commands.ts.

/** The admin prefix the Worker uses unless `ADMIN_PREFIX` says otherwise. */
export const DEFAULT_ADMIN_PREFIX = '/__rollout';

const AdminUrlSchema = z.pipe(
  z.url({ protocol: /^https?$/, error: 'the URL must be an http(s) URL, e.g. https://app.example.com' }),
  z.transform((url) => url.replace(/\/+$/, '')),
);

// Issue messages never repeat the value, so a malformed token cannot end up on screen.
const TokenSchema = z
  .string()
  .check(z.regex(/^\S{1,4096}$/, 'the token must be 1–4096 characters without spaces'));

const PrefixSchema = z
  .string()
  .check(z.regex(/^\/[A-Za-z0-9_/-]{1,63}$/, 'the admin prefix starts with / and holds [A-Za-z0-9_/-]'));

/** A wrangler environment name (`--env production`), used in printed fallback commands. */
export const WranglerEnvSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'the wrangler environment is 1–64 chars of [A-Za-z0-9_-]'));

/** Where and how the CLI talks to the admin API, after flags and env vars are merged. */
export const ConnectionSchema = z.strictObject({
  url: AdminUrlSchema,
  token: z.optional(TokenSchema),
  actor: z.optional(ActorLabelSchema),
  prefix: z._default(PrefixSchema, DEFAULT_ADMIN_PREFIX),
  env: z.optional(WranglerEnvSchema),
});

/** A validated connection. */
export type Connection = z.infer<typeof ConnectionSchema>;

/** Connection settings given as flags; each wins over its env var. */
export interface ConnectionFlags {
  url?: string;
  token?: string;
  actor?: string;
  prefix?: string;
  env?: string;
}

/**
 * Merges `--url/--token/--actor/--prefix/--env` over `ROLLOUT_URL`, `ROLLOUT_TOKEN`,
 * `ROLLOUT_ACTOR`, `ROLLOUT_PREFIX` and `ROLLOUT_ENV`, and validates the result.
 * Throws a UsageError (exit 2) when something is missing or malformed.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): Connection {
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const input = {
    url: pick(flags.url, 'ROLLOUT_URL'),
    token: pick(flags.token, 'ROLLOUT_TOKEN'),
    actor: pick(flags.actor, 'ROLLOUT_ACTOR'),
    prefix: pick(flags.prefix, 'ROLLOUT_PREFIX'),
    env: pick(flags.env, 'ROLLOUT_ENV'),
  };
  if (input.url === undefined) {
    throw new UsageError('no admin URL: set ROLLOUT_URL or pass --url https://app.example.com');
  }
  const result = ConnectionSchema.safeParse(input);
  if (!result.success) throw new UsageError(describeIssues(result.error).join('\n'));
  return result.data;
}

/** What the command line asks for: help, or a validated command with its connection flags. */
export type ParsedCommandLine =
  | { kind: 'help'; spec?: CommandSpec }
  | {
      kind: 'run';
      spec: CommandSpec;
      command: CliCommand;
      flags: ConnectionFlags;
      json: boolean;
      /** `--yes`: send a write without asking. */
      yes: boolean;
      /** `--preview`: show what a write would move, and send nothing. */
      preview: boolean;
    }
  /** A launch command (preflight, gate, …: ops-command-line.ts), its arguments checked. */
  | { kind: 'ops'; name: string; help: boolean };

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  actor: { type: 'string' },
  prefix: { type: 'string' },
  env: { type: 'string' },
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  preview: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMAND_OPTIONS = {
  reason: { type: 'string' },
  percent: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  since: { type: 'string' },
  create: { type: 'boolean' },
  weights: { type: 'string' },
  rule: { type: 'string' },
} as const satisfies Record<CommandOption, { type: 'string' | 'boolean' }>;

const SPECS_BY_NAME = new Map(COMMAND_SPECS.map((spec) => [spec.name as string, spec]));

/**
 * Reads `npx rollout` arguments: global options anywhere, the command first among the
 * positionals, then the command's own arguments, each checked by the command's schema.
 * Throws a UsageError (exit 2) for anything wrong; nothing is sent in that case.
 *
 * @example
 * parseCommandLine(['set', '10', '--json']);
 * // { kind: 'run', command: { name: 'set', percent: 10 }, json: true, … }
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  if (isOpsCommand(argv)) {
    const ops = parseOpsCommandLine(argv);
    return { kind: 'ops', name: ops.spec.name, help: ops.help };
  }
  // Offline: `token new` talks to nothing (run-cli.ts runs it before any connection option).
  if (argv[0] === 'token') {
    const token = parseTokenCommandLine(argv.slice(1));
    if ('error' in token) throw new UsageError(token.error);
    return { kind: 'ops', name: 'token', help: 'help' in token };
  }
  const { values, positionals } = readArgs(argv);
  const [name, ...rest] = positionals;
  if (name === undefined) {
    if (values.help) return { kind: 'help' };
    throw new UsageError('no command given');
  }
  const spec = SPECS_BY_NAME.get(name);
  if (!spec) throw new UsageError(`unknown command "${name.slice(0, 40)}"`);
  if (values.help) return { kind: 'help', spec };

  const input: CommandInput = {};
  for (const option of Object.keys(COMMAND_OPTIONS) as CommandOption[]) {
    if (values[option] === undefined) continue;
    if (!spec.options.includes(option)) throw new UsageError(`${spec.name} takes no --${option}`, spec.name);
    input[option] = values[option];
  }
  Object.assign(input, namePositionals(spec, rest));

  const result = spec.schema.safeParse(input);
  if (!result.success) throw new UsageError(describeIssues(result.error).join('\n'), spec.name);
  const { url, token, actor, prefix, env } = values;
  return {
    kind: 'run',
    spec,
    command: result.data,
    flags: { url, token, actor, prefix, env },
    json: values.json ?? false,
    yes: values.yes ?? false,
    preview: values.preview ?? false,
  };
}

function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const negative = argv.find((arg) => /^-\d/.test(arg));
    if (negative) throw new UsageError(`negative numbers are not allowed (got ${negative.slice(0, 20)})`);
    // Node's message goes on to explain `--`; the first sentence is the useful part.
    throw new UsageError(String((error as Error).message).split('. ')[0]!);
  }
}

function namePositionals(spec: CommandSpec, args: readonly string[]): CommandInput {
  const named: CommandInput = {};
  const variadic = spec.positionals.at(-1)?.endsWith('...');
  const fixed = variadic ? spec.positionals.slice(0, -1) : spec.positionals;
  // A variadic positional takes one value or more.
  const least = fixed.length + (variadic ? 1 : 0);
  if (args.length < least || (!variadic && args.length > fixed.length)) {
    const wanted = spec.positionals.map((p) => `<${p}>`).join(' ') || 'no arguments';
    throw new UsageError(`${spec.name} takes ${wanted}, got ${args.length} argument(s)`, spec.name);
  }
  fixed.forEach((positional, index) => (named[positional] = args[index]));
  if (variadic) named[spec.positionals.at(-1)!.slice(0, -3)] = args.slice(fixed.length);
  return named;
}

const GLOBAL_OPTIONS_HELP = [
  '--url URL       the Worker URL (env ROLLOUT_URL), e.g. https://app.example.com',
  '--token TOKEN   the admin token (env ROLLOUT_TOKEN; prefer the env var: flags show in ps)',
  '--actor LABEL   who you are, for the audit log (env ROLLOUT_ACTOR; 1–64 chars [A-Za-z0-9_.@-])',
  '--prefix PATH   the admin prefix (env ROLLOUT_PREFIX; default /__rollout)',
  '--env NAME      wrangler environment for printed KV fallback commands (env ROLLOUT_ENV)',
  '--json          print the API answer as JSON (for scripts)',
  '--preview       show what a write would move (exact or estimated), and send nothing',
  '-y, --yes       send a write without asking (on a terminal, writes that move visitors ask first)',
  '-h, --help      help for the CLI or a command',
];

const EXITS = [
  `${EXIT_CODES.ok}  done`,
  `${EXIT_CODES.api}  the admin API answered with an error (400, 401, 409, 412, 429, 5xx)`,
  `${EXIT_CODES.usage}  bad command line: nothing was sent`,
  `${EXIT_CODES.unreachable}  the admin API could not be reached`,
  `${EXIT_CODES.declined}  not confirmed at the prompt: nothing was sent`,
];

/**
 * `npx rollout --help`.
 */
export function generalHelp(): string {
  return [
    'npx rollout <command> [options]: drive an edge-rollout launch through its admin API.',
    '',
    'Commands:',
    // Usage and summary on separate lines: the kill usage alone is 60 characters wide.
    ...COMMAND_SPECS.flatMap((spec) => [`  ${spec.usage}`, `      ${spec.summary}`]),
    `  ${TOKEN_USAGE}`,
    '      make a named admin token offline: prints it once and its ADMIN_TOKENS line',
    '',
    'Options:',
    ...GLOBAL_OPTIONS_HELP.map((line) => `  ${line}`),
    '',
    opsHelp(),
    '',
    'Exit codes:',
    ...EXITS.map((line) => `  ${line}`),
    '',
    'npx rollout <command> --help shows a command in detail.',
  ].join('\n');
}

/**
 * `npx rollout <command> --help`.
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

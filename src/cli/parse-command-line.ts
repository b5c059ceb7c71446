import { parseArgs } from 'node:util';
import { describeIssues } from '../config/describe-issues';
import type { CliCommand } from './cli-command';
import { UsageError } from './cli-errors';
import { COMMAND_SPECS, type CommandInput, type CommandOption, type CommandSpec } from './command-specs';
import type { ConnectionFlags } from './connection-options';

/** What the command line asks for: help, or a validated command with its connection flags. */
export type ParsedCommandLine =
  | { kind: 'help'; spec?: CommandSpec }
  | { kind: 'run'; spec: CommandSpec; command: CliCommand; flags: ConnectionFlags; json: boolean };

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  actor: { type: 'string' },
  prefix: { type: 'string' },
  env: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMAND_OPTIONS = {
  reason: { type: 'string' },
  percent: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  since: { type: 'string' },
} as const satisfies Record<CommandOption, { type: 'string' }>;

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

import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { PercentSchema } from '../src/config/config-schema';
import { describeIssues } from '../src/config/parse-config';
import { UsageError } from './errors';
import { DEFAULT_LAUNCH_FILE } from './launch-plan';

/**
 * The command line of the launch commands of `npx rollout` (preflight, secrets-bulk, gate,
 * current-version, launch-config, override-link): their help, their options, and the zod/mini
 * schema that checks each command's input, so a bad one exits 2 and changes nothing. What each
 * command does is in ops-commands.ts. A leaf module: command-line.ts reads it for the help and
 * for a parse that knows every command.
 */

// Repeats command-line.ts's WranglerEnvSchema rule: importing it would make the two files a cycle.
const EnvNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'the wrangler environment is 1–64 chars of [A-Za-z0-9_-]'));
const PathSchema = z.string().check(z.minLength(1, 'a path cannot be empty'));

const FILE_OPTIONS = {
  env: { type: 'string' },
  config: { type: 'string' },
  'control-config': { type: 'string' },
  'secrets-file': { type: 'string' },
  'secrets-example': { type: 'string' },
} as const;

const FILE_HELP = [
  '--env NAME              wrangler environment (default: production)',
  '--config FILE           the edge Worker config (default: wrangler.toml; passed on to wrangler when given)',
  '--control-config FILE   the control Worker config (default: worker/control/wrangler.toml)',
  '--secrets-file FILE     the secrets (default: .env.production; may be absent)',
  '--secrets-example FILE  the secret names and which are [required] (default: .env.production.example)',
];

const fileShape = {
  env: z._default(EnvNameSchema, 'production'),
  config: z.optional(PathSchema),
  'control-config': z.optional(PathSchema),
  'secrets-file': z.optional(PathSchema),
  'secrets-example': z.optional(PathSchema),
};

/** The file options of `preflight` and `secrets-bulk`, checked. */
export type FileOptions = z.infer<z.ZodMiniObject<typeof fileShape>>;

const UrlOption = { url: z.optional(z.string()) };

/**
 * Each launch command's input schema, by name. The keys are the option names as typed
 * (`--step-started-ms`), and the positionals by name.
 */
export const OPS_INPUT_SCHEMAS = {
  preflight: z.strictObject(fileShape),
  'secrets-bulk': z.strictObject({
    ...fileShape,
    plane: z.optional(z.enum(['edge', 'control'], { error: 'the plane is edge or control' })),
    names: z._default(z.boolean(), false),
  }),
  gate: z.strictObject({
    'step-started-ms': z.pipe(
      z.string().check(z.regex(/^\d{1,15}$/, 'step-started-ms must be a time in ms since the epoch')),
      z.transform(Number),
    ),
    'max-error-rate': z.optional(
      z.pipe(
        z
          .string()
          .check(z.regex(/^\d{1,3}(?:\.\d{1,2})?$/, 'max-error-rate must be a percent from 0 to 100')),
        z.pipe(z.transform(Number), PercentSchema),
      ),
    ),
    'allow-no-verdict': z._default(z.boolean(), false),
  }),
  'current-version': z.strictObject({}),
  'launch-config': z.strictObject({
    file: z.optional(PathSchema),
    'dry-run': z._default(z.boolean(), false),
    ...UrlOption,
  }),
  'override-link': z.strictObject({
    cohort: z.enum(['stable', 'canary'], { error: 'the cohort is stable or canary' }),
    ttl: z._default(
      z.pipe(
        z.string().check(z.regex(/^\d{1,6}$/, 'ttl must be a whole number of seconds')),
        z.pipe(
          z.transform(Number),
          z.int().check(z.gte(60, 'ttl must be at least 60 s'), z.lte(604_800, 'ttl must be at most 7 days')),
        ),
      ),
      3600,
    ),
    ...UrlOption,
  }),
} as const;

/** The name of a launch command. */
export type OpsName = keyof typeof OPS_INPUT_SCHEMAS;

/** One launch command's checked input. */
export type OpsInput<N extends OpsName> = z.infer<(typeof OPS_INPUT_SCHEMAS)[N]>;

/** One launch command's help and options. */
export interface OpsSpec {
  name: OpsName;
  usage: string;
  summary: string;
  details: readonly string[];
  options: Readonly<Record<string, { type: 'string' } | { type: 'boolean' }>>;
  positionals: readonly string[];
  /**
   * Output that must go out byte for byte: the secrets' JSON. Never scrubbed of the token, since
   * ADMIN_TOKEN in the file is often the token itself, and "***" would be pushed as its value.
   */
  rawOutput: boolean;
}

/**
 * The launch commands, in the order the help lists them.
 *
 * @example
 * OPS_SPECS.map((spec) => spec.name); // ['preflight', 'secrets-bulk', 'gate', …]
 */
export const OPS_SPECS: readonly OpsSpec[] = [
  {
    name: 'preflight',
    usage: 'preflight [--env NAME] [--config FILE] [--control-config FILE] [--secrets-file FILE]',
    summary:
      "Phase A's read-only checks: no REPLACE_WITH… placeholder in either Worker config for the env, every required secret of each Worker in the secrets file or its wrangler secret list (names only).",
    details: [...FILE_HELP, 'Exit 0 when every check passed, 1 when one failed (each printed as ✘).'],
    options: FILE_OPTIONS,
    positionals: [],
    rawOutput: false,
  },
  {
    name: 'secrets-bulk',
    usage: 'secrets-bulk [--plane edge|control] [--names] [file options as preflight]',
    summary:
      "The secrets file's values for one Worker (those its config declares) as the JSON `wrangler secret bulk` reads on stdin; --names prints the names only.",
    details: [
      '--plane edge|control    only the secrets that Worker declares ([secrets] required); without it, every one set',
      '--names                 print the names, space-separated, instead of the JSON',
      ...FILE_HELP,
      'The values go to stdout only for a pipe into wrangler: never redirect them to a file or a terminal.',
    ],
    options: { ...FILE_OPTIONS, plane: { type: 'string' }, names: { type: 'boolean' } },
    positionals: [],
    rawOutput: true,
  },
  {
    name: 'gate',
    usage: 'gate --step-started-ms MS [--max-error-rate PCT] [--allow-no-verdict] < status.json',
    summary:
      'Judge a launch gate from `npx rollout status --json` on stdin: pass only on a healthy guard verdict given after the step began, on the config version in force.',
    details: [
      '--step-started-ms MS    when the step began (ms since the epoch); an older verdict judged the step before',
      "--max-error-rate PCT    also fail when the canary's error rate in the verdict is above PCT %",
      '--allow-no-verdict      a missing, stale or inconclusive verdict passes with a warning',
      'Prints what it saw (exit 0), or why the gate fails (exit 1).',
    ],
    options: {
      'step-started-ms': { type: 'string' },
      'max-error-rate': { type: 'string' },
      'allow-no-verdict': { type: 'boolean' },
    },
    positionals: [],
    rawOutput: false,
  },
  {
    name: 'current-version',
    usage: 'current-version < deployment.json',
    summary:
      'The version at 100 % in `wrangler deployments status --json` on stdin (the rollback target), or nothing.',
    details: ['Prints nothing for a first deploy, a split deployment or unreadable output; exits 0.'],
    options: {},
    positionals: [],
    rawOutput: false,
  },
  {
    name: 'launch-config',
    usage: 'launch-config [--file PLAN] [--dry-run] [--url URL]',
    summary:
      "Write the launch plan's config: read the version (GET /state's ETag), preview the write, then PUT /config with If-Match. Refused while a launch is live; a config already in force is left alone.",
    details: [
      `--file PLAN             the launch plan (default: ${DEFAULT_LAUNCH_FILE})`,
      '--dry-run               preview only; write nothing',
      '--url URL               the Worker URL (env ROLLOUT_URL); the token from ROLLOUT_TOKEN',
    ],
    options: { file: { type: 'string' }, 'dry-run': { type: 'boolean' }, url: { type: 'string' } },
    positionals: [],
    rawOutput: false,
  },
  {
    name: 'override-link',
    usage: 'override-link stable|canary [--ttl SECONDS] [--url URL]',
    summary:
      'Create a signed QA link (POST /override-link) that pins the browser opening it to a cohort; prints the URL and when it expires.',
    details: [
      '--ttl SECONDS           how long the link works (60 s to 7 days; default 3600)',
      '--url URL               the Worker URL (env ROLLOUT_URL); the token from ROLLOUT_TOKEN',
    ],
    options: { ttl: { type: 'string' }, url: { type: 'string' } },
    positionals: ['cohort'],
    rawOutput: false,
  },
];

const SPECS = new Map<string, OpsSpec>(OPS_SPECS.map((spec) => [spec.name, spec]));

/** Whether `argv` names a launch command (its first word that is not an option). */
export function isOpsCommand(argv: readonly string[]): boolean {
  const first = argv.find((arg) => !arg.startsWith('-'));
  return first !== undefined && SPECS.has(first);
}

/** The spec of the launch command `argv` names; call after {@link isOpsCommand}. */
export function opsSpecOf(argv: readonly string[]): OpsSpec {
  return SPECS.get(argv.find((arg) => !arg.startsWith('-'))!)!;
}

/** What a launch command line asks for: its help, or the command with its checked input. */
export type ParsedOpsCommandLine =
  | { help: true; spec: OpsSpec }
  | { [N in OpsName]: { help: false; spec: OpsSpec & { name: N }; input: OpsInput<N> } }[OpsName];

/**
 * Reads a launch command line: its options (anything else is a UsageError), its positionals by
 * name, then the command's schema.
 *
 * @example
 * parseOpsCommandLine(['override-link', 'canary', '--ttl', '600']);
 * // { help: false, spec: …, input: { cohort: 'canary', ttl: 600 } }
 */
export function parseOpsCommandLine(argv: readonly string[]): ParsedOpsCommandLine {
  const spec = opsSpecOf(argv);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(String((error as Error).message).split('. ')[0]!, spec.name);
  }
  const { help, ...values } = parsed.values;
  if (help) return { help: true, spec };
  const rest = parsed.positionals.slice(1);
  if (rest.length !== spec.positionals.length)
    throw new UsageError(
      `${spec.name} takes ${spec.positionals.map((p) => `<${p}>`).join(' ') || 'no arguments'}, got ${rest.length} argument(s)`,
      spec.name,
    );
  const input: Record<string, unknown> = { ...values };
  spec.positionals.forEach((positional, index) => (input[positional] = rest[index]));
  const result = OPS_INPUT_SCHEMAS[spec.name].safeParse(input);
  if (!result.success) throw new UsageError(describeIssues(result.error).join('\n'), spec.name);
  return { help: false, spec, input: result.data } as ParsedOpsCommandLine;
}

/** `npx rollout <launch command> --help`. */
export function opsCommandHelp(spec: OpsSpec): string {
  return [`npx rollout ${spec.usage}`, '', spec.summary, '', ...spec.details.map((line) => `  ${line}`)].join(
    '\n',
  );
}

/** The launch commands' lines of `npx rollout --help`. */
export function opsHelp(): string {
  return [
    'Launch commands (the logic of scripts/production-deploy.sh; docs/CLI.md):',
    ...OPS_SPECS.flatMap((spec) => [`  ${spec.usage}`, `      ${spec.summary}`]),
  ].join('\n');
}

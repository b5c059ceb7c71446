import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { PercentSchema } from '../src/config/config-schema';
import { describeIssues } from '../src/config/parse-config';
import { resolveConnection, WranglerEnvSchema } from './command-line';
import { ApiError, EXIT_CODES, isCliError, UsageError, type ExitCode } from './errors';
import { currentVersion, GateStatusSchema, judgeGate } from './gate';
import { createOverrideLink, writeLaunchConfig } from './launch-config';
import { DEFAULT_LAUNCH_FILE, readLaunchPlan } from './launch-plan';
import { runPreflight, runWrangler as spawnWrangler, secretsToPush, type RunWrangler } from './preflight';

/**
 * The launch commands of `npx rollout`: the logic of scripts/production-deploy.sh and
 * scripts/rollback.sh, typed and tested, so that the scripts keep only their phases. Each reads
 * its own options (checked by a zod/mini schema: a bad one exits 2 and changes nothing), and
 * reads stdin where the script pipes JSON in. The exit codes are the CLI's (docs/CLI.md).
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What a launch command needs from its process; the defaults are the real ones. */
export interface OpsRuntime {
  env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
  fetch?: typeof fetch;
  /** All of stdin, for the commands that judge JSON piped in. */
  readStdin?: () => Promise<string>;
  runWrangler?: RunWrangler;
}

type OptionKind = { type: 'string' } | { type: 'boolean' };

interface OpsSpec {
  name: string;
  usage: string;
  summary: string;
  details: readonly string[];
  options: Record<string, OptionKind>;
  positionals?: readonly string[];
  /**
   * Output that must go out byte for byte: the secrets' JSON. Never scrubbed of the token, since
   * ADMIN_TOKEN in the file is often the token itself, and "***" would be pushed as its value.
   */
  rawOutput?: boolean;
  run(input: Record<string, unknown>, runtime: OpsRuntime, out: (text: string) => void): Promise<ExitCode>;
}

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

const FilesSchema = z.strictObject({
  env: z._default(WranglerEnvSchema, 'production'),
  config: z.optional(z.string().check(z.minLength(1))),
  'control-config': z.optional(z.string().check(z.minLength(1))),
  'secrets-file': z.optional(z.string().check(z.minLength(1))),
  'secrets-example': z.optional(z.string().check(z.minLength(1))),
});

function files(input: z.infer<typeof FilesSchema>) {
  const at = (path: string | undefined, fallback: string) => resolve(path ?? join(REPO_ROOT, fallback));
  return {
    env: input.env,
    edgeConfig: input.config === undefined ? undefined : resolve(input.config),
    defaultEdgeConfig: join(REPO_ROOT, 'wrangler.toml'),
    controlConfig: at(input['control-config'], 'worker/control/wrangler.toml'),
    secretsFile: at(input['secrets-file'], '.env.production'),
    secretsExample: at(input['secrets-example'], '.env.production.example'),
  };
}

const PlaneSchema = z.enum(['edge', 'control'], { error: 'the plane is edge or control' });

const GateInputSchema = z.strictObject({
  'step-started-ms': z.pipe(
    z.string().check(z.regex(/^\d{1,15}$/, 'step-started-ms must be a time in ms since the epoch')),
    z.transform(Number),
  ),
  'max-error-rate': z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d{1,3}(?:\.\d{1,2})?$/, 'max-error-rate must be a percent from 0 to 100')),
      z.pipe(z.transform(Number), PercentSchema),
    ),
  ),
  'allow-no-verdict': z._default(z.boolean(), false),
});

const TtlSchema = z.pipe(
  z.string().check(z.regex(/^\d{1,6}$/, 'ttl must be a whole number of seconds')),
  z.pipe(
    z.transform(Number),
    z.int().check(z.gte(60, 'ttl must be at least 60 s'), z.lte(604_800, 'ttl must be at most 7 days')),
  ),
);

async function readAllStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
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
    async run(input, runtime, out) {
      const report = await runPreflight(
        files(parse(FilesSchema, input, 'preflight')),
        runtime.runWrangler ?? spawnWrangler,
      );
      for (const line of report.lines) out(line);
      return report.failures.length ? EXIT_CODES.api : EXIT_CODES.ok;
    },
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
    rawOutput: true,
    async run(input, _runtime, out) {
      const { plane, names, ...rest } = input;
      const options = parse(
        z.strictObject({ plane: z.optional(PlaneSchema), names: z._default(z.boolean(), false) }),
        { plane, names },
        'secrets-bulk',
      );
      const chosen = secretsToPush(files(parse(FilesSchema, rest, 'secrets-bulk')), options.plane);
      out(options.names ? chosen.names.join(' ') : JSON.stringify(chosen.values));
      return EXIT_CODES.ok;
    },
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
    async run(input, runtime, out) {
      const options = parse(GateInputSchema, input, 'gate');
      const text = await (runtime.readStdin ?? readAllStdin)();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const status = GateStatusSchema.safeParse(json);
      if (!status.success) {
        out(
          `the rollout status is unreadable (${json === undefined ? 'not JSON' : describeIssues(status.error).join('; ')})`,
        );
        return EXIT_CODES.api;
      }
      const judgement = judgeGate(status.data, {
        stepStartedMs: options['step-started-ms'],
        allowNoVerdict: options['allow-no-verdict'],
        ...(options['max-error-rate'] === undefined
          ? {}
          : { maxErrorRatePercent: options['max-error-rate'] }),
      });
      out(judgement.pass ? judgement.summary : judgement.problems.join('; '));
      return judgement.pass ? EXIT_CODES.ok : EXIT_CODES.api;
    },
  },
  {
    name: 'current-version',
    usage: 'current-version < deployment.json',
    summary:
      'The version at 100 % in `wrangler deployments status --json` on stdin (the rollback target), or nothing.',
    details: ['Prints nothing for a first deploy, a split deployment or unreadable output; exits 0.'],
    options: {},
    async run(_input, runtime, out) {
      const version = currentVersion(await (runtime.readStdin ?? readAllStdin)());
      if (version) out(version);
      return EXIT_CODES.ok;
    },
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
    async run(input, runtime, out) {
      const options = parse(
        z.strictObject({
          file: z.optional(z.string().check(z.minLength(1))),
          'dry-run': z._default(z.boolean(), false),
          url: z.optional(z.string()),
        }),
        input,
        'launch-config',
      );
      const plan = readLaunchPlan(options.file);
      const connection = apiConnection(options.url, runtime.env);
      await writeLaunchConfig(
        plan,
        { connection, fetch: runtime.fetch, out },
        { dryRun: options['dry-run'] },
      );
      return EXIT_CODES.ok;
    },
  },
  {
    name: 'override-link',
    usage: 'override-link stable|canary [--ttl SECONDS] [--url URL]',
    positionals: ['cohort'],
    summary:
      'Create a signed QA link (POST /override-link) that pins the browser opening it to a cohort; prints the URL and when it expires.',
    details: [
      '--ttl SECONDS           how long the link works (60 s to 7 days; default 3600)',
      '--url URL               the Worker URL (env ROLLOUT_URL); the token from ROLLOUT_TOKEN',
    ],
    options: { ttl: { type: 'string' }, url: { type: 'string' } },
    async run(input, runtime, out) {
      const options = parse(
        z.strictObject({
          cohort: z.enum(['stable', 'canary'], { error: 'the cohort is stable or canary' }),
          ttl: z._default(TtlSchema, 3600),
          url: z.optional(z.string()),
        }),
        input,
        'override-link',
      );
      const connection = apiConnection(options.url, runtime.env);
      const link = await createOverrideLink(
        { connection, fetch: runtime.fetch },
        options.cohort,
        options.ttl,
      );
      out(`${link.url}  (${options.cohort}, until ${link.expiresAt})`);
      return EXIT_CODES.ok;
    },
  },
];

const SPECS = new Map(OPS_SPECS.map((spec) => [spec.name, spec]));

/** Whether `argv` names a launch command (handled here, not by the admin command table). */
export function isOpsCommand(argv: readonly string[]): boolean {
  const first = argv.find((arg) => !arg.startsWith('-'));
  return first !== undefined && SPECS.has(first);
}

/** The launch commands' lines of `npx rollout --help`. */
export function opsHelp(): string {
  return [
    'Launch commands (the logic of scripts/production-deploy.sh and rollback.sh):',
    ...OPS_SPECS.flatMap((spec) => [`  ${spec.usage}`, `      ${spec.summary}`]),
  ].join('\n');
}

function apiConnection(url: string | undefined, env: OpsRuntime['env']) {
  const connection = resolveConnection({ url }, env);
  if (!connection.token) throw new UsageError('no admin token: set ROLLOUT_TOKEN');
  return connection;
}

function parse<S extends z.ZodMiniType>(schema: S, input: unknown, command: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new UsageError(describeIssues(result.error).join('\n'), command);
  return result.data;
}

/**
 * Runs one launch command and resolves to its exit code; never throws. The token never reaches
 * the output.
 *
 * @example
 * await runOpsCommand(['gate', '--step-started-ms', '0'], { env, stdout, stderr, readStdin: async () => status });
 */
export async function runOpsCommand(argv: readonly string[], runtime: OpsRuntime): Promise<ExitCode> {
  const name = argv.find((arg) => !arg.startsWith('-'))!;
  const spec = SPECS.get(name)!;
  const token = runtime.env.ROLLOUT_TOKEN;
  const scrub = (text: string) => (token && token.length >= 4 ? text.split(token).join('***') : text);
  const out = (text: string) => runtime.stdout(`${spec.rawOutput ? text : scrub(text)}\n`);
  const err = (text: string) => runtime.stderr(`${scrub(text)}\n`);
  try {
    const { values, positionals } = readArgs(spec, argv);
    if (values.help) {
      out(
        [`npx rollout ${spec.usage}`, '', spec.summary, '', ...spec.details.map((line) => `  ${line}`)].join(
          '\n',
        ),
      );
      return EXIT_CODES.ok;
    }
    const rest = positionals.slice(1);
    const wanted = spec.positionals ?? [];
    if (rest.length !== wanted.length)
      throw new UsageError(
        `${name} takes ${wanted.map((p) => `<${p}>`).join(' ') || 'no arguments'}, got ${rest.length} argument(s)`,
        name,
      );
    const input: Record<string, unknown> = { ...values };
    delete input.help;
    wanted.forEach((positional, index) => (input[positional] = rest[index]));
    return await spec.run(input, runtime, out);
  } catch (error) {
    if (!isCliError(error)) {
      err(`error: unexpected failure: ${(error as Error)?.message ?? String(error)}`);
      return EXIT_CODES.api;
    }
    err(`error: ${error.message}`);
    if (error instanceof ApiError) for (const issue of error.issues) err(`  ${issue}`);
    if (error instanceof UsageError) err(`usage: npx rollout ${spec.usage}`);
    return error.exitCode;
  }
}

function readArgs(spec: OpsSpec, argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(String((error as Error).message).split('. ')[0]!, spec.name);
  }
}

/**
 * Phase C of a launch: the flag plan of the launch file (docs/examples/invoicing-launch.json by
 * default), turned on phase by phase through the admin API.
 *
 *   npx tsx scripts/feature-flags.ts --list [--file PLAN]
 *   npx tsx scripts/feature-flags.ts --phase 1 [--file PLAN] [--dry-run] [--url URL] [--actor LABEL] [--json]
 *
 * ROLLOUT_URL / ROLLOUT_TOKEN come from the environment, as for `npx rollout`. The plan is data,
 * reviewed like code; this file only reads it and sends it.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { describeIssues } from '../src/config/parse-config';
import { createAdminClient } from '../cli/admin-client';
import { resolveConnection } from '../cli/command-line';
import { unknownFlagHint } from '../cli/did-you-mean';
import { ApiError, EXIT_CODES, isCliError, UsageError, type ExitCode } from '../cli/errors';
import { formatPercent } from '../cli/format-output';
import {
  DEFAULT_LAUNCH_FILE,
  readLaunchPlan,
  stepBody,
  type FlagPhase,
  type FlagStep,
  type LaunchPlan,
} from '../cli/launch-plan';

export { stepBody, type FlagPhase, type FlagStep };

/**
 * The invoicing example's flag plan (docs/examples/invoicing-launch.json): lowest risk first,
 * email (which talks to the outside world) to employees, then 25 %, then everyone, and
 * analytics, which is always on, last.
 *
 * @example
 * INVOICING_FLAG_PHASES[0]; // { name: 'file storage (logos)', flags: { fileStorage: 100 }, … }
 */
export const INVOICING_FLAG_PHASES: readonly FlagPhase[] = readLaunchPlan().phases;

/**
 * A step in words.
 *
 * @example
 * describeStep({ weights: { split: { on: 25, off: 75 } } }); // 'on 25 % / off 75 %'
 */
export function describeStep(step: FlagStep): string {
  if (typeof step === 'number') return formatPercent(step);
  if ('weights' in step)
    return `${describeSplit(step.weights.split)}${step.weights.rule === undefined ? '' : ` (rule ${step.weights.rule})`}`;
  return step.enabled ? 'on (as its rules say)' : 'off';
}

function describeSplit(split: Record<string, number>): string {
  return Object.entries(split)
    .map(([variant, weight]) => `${variant} ${formatPercent(weight)}`)
    .join(' / ');
}

const ArgsSchema = z.strictObject({
  phase: z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d{1,2}$/, 'phase must be a whole number')),
      z.pipe(z.transform(Number), z.int().check(z.gte(1, 'phase must be at least 1'))),
    ),
  ),
  file: z.optional(z.string().check(z.minLength(1))),
  list: z._default(z.boolean(), false),
  'dry-run': z._default(z.boolean(), false),
  json: z._default(z.boolean(), false),
  help: z._default(z.boolean(), false),
  url: z.optional(z.string()),
  actor: z.optional(z.string()),
});

const HELP = `npx tsx scripts/feature-flags.ts --phase N [--file PLAN] [--dry-run] [--url URL] [--actor LABEL] [--json]
npx tsx scripts/feature-flags.ts --list [--file PLAN]

Turns on the launch plan's feature flags, one phase at a time, through the admin API
(ROLLOUT_URL and ROLLOUT_TOKEN from the environment, as for npx rollout). Every flag a phase
names must be in the plan's config (written in phase A): a name the Worker's config lacks is an
error with "did you mean …?", never a new flag.

  --phase N      apply phase N; running a phase again changes nothing
  --file PLAN    the launch plan (default: ${DEFAULT_LAUNCH_FILE})
  --list         print the phases and exit
  --dry-run      print the requests phase N would send, send nothing
  --url URL      the Worker URL (env ROLLOUT_URL)
  --actor LABEL  who applies it, for the audit log (env ROLLOUT_ACTOR)
  --json         print the API answers as JSON
  -h, --help     this help

Exit codes: 0 done, 1 API error, 2 bad arguments, 3 API unreachable.`;

/** Where the script writes; injected so tests can run it in-process. */
export interface ScriptIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * The plan as text, one line per phase.
 *
 * @example
 * describePlan(); // 'phase 1: file storage (logos): fileStorage → 100 % (watch upload failures …)\n…'
 */
export function describePlan(phases: readonly FlagPhase[] = INVOICING_FLAG_PHASES): string {
  return phases
    .map((phase, index) => {
      const flags = Object.entries(phase.flags).map(([flag, step]) => `${flag} → ${describeStep(step)}`);
      return `phase ${index + 1}: ${phase.name}: ${flags.join(', ')} (watch ${phase.watch})`;
    })
    .join('\n');
}

/**
 * Runs the script once and resolves to its exit code; never throws.
 *
 * @example
 * process.exitCode = await runFeatureFlags(['--phase', '1'], { env: process.env, stdout, stderr });
 */
export async function runFeatureFlags(argv: readonly string[], io: ScriptIo): Promise<ExitCode> {
  const out = (text: string) => io.stdout(`${text}\n`);
  const err = (text: string) => io.stderr(`${text}\n`);
  try {
    const args = readArgs(argv);
    if (args.help) return (out(HELP), EXIT_CODES.ok);
    const plan: LaunchPlan = readLaunchPlan(args.file);
    if (args.list) return (out(describePlan(plan.phases)), EXIT_CODES.ok);
    if (args.phase === undefined) throw new UsageError('choose a phase with --phase N (or --list)');
    if (args.phase > plan.phases.length)
      throw new UsageError(
        `phase must be at most ${plan.phases.length} (the plan has ${plan.phases.length} phases)`,
      );
    const phase = plan.phases[args.phase - 1]!;
    const changes = Object.entries(phase.flags);
    const connection = resolveConnection({ url: args.url, actor: args.actor }, io.env);
    out(`Phase ${args.phase}/${plan.phases.length}: ${phase.name} (watch ${phase.watch})`);
    // No `create`: the plan's flags are declared in its config, written in phase A. A flag the
    // Worker's config lacks (phase A skipped, a hand edit since) is refused by the API.
    if (args['dry-run']) {
      for (const [flag, step] of changes)
        out(`  would send PUT ${connection.prefix}/flags/${flag} ${JSON.stringify(stepBody(step))}`);
      return EXIT_CODES.ok;
    }
    if (!connection.token) throw new UsageError('no admin token: set ROLLOUT_TOKEN');
    const client = createAdminClient({ connection });
    for (const [flag, step] of changes) {
      const reason = `feature-flags phase ${args.phase}: ${phase.name}`;
      const { data, raw } = await client.setFlag(flag, { ...stepBody(step), reason });
      // A phase run twice changes nothing the second time: the API keeps version and audit.
      const what = typeof step === 'number' ? `on for ${formatPercent(step)}` : describeStep(step);
      const done = data.changed
        ? `${what} (config version ${data.version})`
        : `already ${what}: no change (config version ${data.version})`;
      out(args.json ? JSON.stringify(raw) : `  ✔ ${flag} ${done}`);
    }
    return EXIT_CODES.ok;
  } catch (error) {
    if (!isCliError(error)) {
      err(`error: unexpected failure: ${String((error as Error)?.message ?? error)}`);
      return EXIT_CODES.api;
    }
    err(`error: ${error.message}`);
    if (error instanceof ApiError) {
      for (const issue of error.issues) err(`  ${issue}`);
      const hint = unknownFlagHint(error);
      if (hint) err(hint);
    }
    if (error instanceof UsageError)
      err('usage: npx tsx scripts/feature-flags.ts --phase N | --list | --help');
    return error.exitCode;
  }
}

function readArgs(argv: readonly string[]): z.infer<typeof ArgsSchema> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        phase: { type: 'string' },
        file: { type: 'string' },
        list: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        url: { type: 'string' },
        actor: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError(String((error as Error).message).split('. ')[0]!);
  }
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) throw new UsageError(describeIssues(parsed.error).join('\n'));
  return parsed.data;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runFeatureFlags(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

/**
 * The invoicing launch's feature flags, turned on phase by phase through the admin API.
 *
 *   npx tsx scripts/feature-flags.ts --list
 *   npx tsx scripts/feature-flags.ts --phase 1 [--dry-run] [--url URL] [--actor LABEL] [--json]
 *
 * ROLLOUT_URL / ROLLOUT_TOKEN come from the environment, as for `npx rollout`.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { FlagNameSchema, PercentSchema } from '../src/config/config-schema';
import { TypedFlagSchema, VariantNameSchema } from '../src/config/flag-schema';
import { describeIssues } from '../src/config/parse-config';
import { createAdminClient, type FlagChange } from '../cli/admin-client';
import { resolveConnection } from '../cli/command-line';
import { ApiError, EXIT_CODES, isCliError, UsageError, type ExitCode } from '../cli/errors';
import { formatPercent } from '../cli/format-output';

/**
 * One flag's step in a phase: a percent (a boolean flag on for that share of visitors), a whole
 * typed definition (`{"flag": …}`), or new weights for a typed flag's split (`{"weights": …}`):
 * each is one `PUT /flags/:name` body.
 */
export const FlagStepSchema = z.union([
  PercentSchema,
  z.strictObject({ flag: TypedFlagSchema }),
  z.strictObject({
    weights: z.strictObject({
      rule: z.optional(z.int().check(z.gte(0))),
      split: z.record(VariantNameSchema, PercentSchema),
    }),
  }),
]);

/** One flag's step. */
export type FlagStep = z.infer<typeof FlagStepSchema>;

/** One launch phase: the flags it changes, each with its step. */
export const FlagPhaseSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  flags: z.record(FlagNameSchema, FlagStepSchema),
  /** What to watch while this phase bakes. */
  watch: z.string().check(z.minLength(1)),
});

/** A launch phase. */
export type FlagPhase = z.infer<typeof FlagPhaseSchema>;

/**
 * The launch plan's flag order: lowest risk first, the one that talks to the outside world
 * (email) once the others have held, and analytics, which is always on, last.
 *
 * @example
 * INVOICING_FLAG_PHASES[0]; // { name: 'file storage (logos)', flags: { fileStorage: 100 }, … }
 */
export const INVOICING_FLAG_PHASES: readonly FlagPhase[] = z.array(FlagPhaseSchema).parse([
  { name: 'file storage (logos)', flags: { fileStorage: 100 }, watch: 'upload failures (guard: > 5 %)' },
  { name: 'templates', flags: { templates: 100 }, watch: 'error rate (guard: > 1 %) and p95 (guard: > 2 s)' },
  {
    name: 'email delivery: employees first',
    flags: {
      emailDelivery: {
        flag: {
          type: 'boolean',
          variants: { on: true, off: false },
          offVariant: 'off',
          rules: [{ name: 'employees first', when: [{ segment: 'employees' }], serve: { variant: 'on' } }],
          fallthrough: { split: { on: 0, off: 100 } },
        },
      },
    },
    watch: 'email delivery (guard: < 90 %) and the support inbox',
  },
  {
    name: 'email delivery: 25 %',
    flags: { emailDelivery: { weights: { split: { on: 25, off: 75 } } } },
    watch: 'email delivery (guard: < 90 %)',
  },
  {
    name: 'email delivery: everyone',
    flags: { emailDelivery: { weights: { split: { on: 100, off: 0 } } } },
    watch: 'email delivery (guard: < 90 %)',
  },
  {
    name: 'invoice template v2 (50/50)',
    flags: {
      invoiceTemplateVersion: {
        flag: {
          type: 'string',
          variants: { classic: 'v1', modern: 'v2' },
          offVariant: 'classic',
          fallthrough: { split: { classic: 50, modern: 50 } },
        },
      },
    },
    watch: 'template_used success and p95, per variant',
  },
  { name: 'analytics', flags: { analytics: 100 }, watch: 'error rate and p95' },
]);

/**
 * A step in words.
 *
 * @example
 * describeStep({ weights: { split: { on: 25, off: 75 } } }); // 'on 25 % / off 75 %'
 */
export function describeStep(step: FlagStep): string {
  if (typeof step === 'number') return formatPercent(step);
  if ('weights' in step) return describeSplit(step.weights.split);
  const { rules, fallthrough } = step.flag;
  const named = rules.map((rule, i) => rule.name ?? `rule ${i + 1}`);
  const rest =
    fallthrough && 'split' in fallthrough
      ? describeSplit(fallthrough.split)
      : (fallthrough?.variant ?? step.flag.offVariant);
  return `${step.flag.type} flag: ${named.length ? `${named.join(', ')}, then ` : ''}${rest}`;
}

function describeSplit(split: Record<string, number>): string {
  return Object.entries(split)
    .map(([variant, weight]) => `${variant} ${formatPercent(weight)}`)
    .join(' / ');
}

/** The `PUT /flags/:name` body of a step (without the reason). */
export function stepBody(step: FlagStep): FlagChange {
  if (typeof step === 'number') return { enabled: true, percent: step, create: true };
  if ('weights' in step) return { weights: step.weights };
  return { flag: step.flag, create: true };
}

const ArgsSchema = z.strictObject({
  phase: z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d{1,2}$/, 'phase must be a whole number')),
      z.pipe(
        z.transform(Number),
        z
          .int()
          .check(
            z.gte(1, 'phase must be at least 1'),
            z.lte(INVOICING_FLAG_PHASES.length, `phase must be at most ${INVOICING_FLAG_PHASES.length}`),
          ),
      ),
    ),
  ),
  list: z._default(z.boolean(), false),
  'dry-run': z._default(z.boolean(), false),
  json: z._default(z.boolean(), false),
  help: z._default(z.boolean(), false),
  url: z.optional(z.string()),
  actor: z.optional(z.string()),
});

const HELP = `npx tsx scripts/feature-flags.ts --phase N [--dry-run] [--url URL] [--actor LABEL] [--json]
npx tsx scripts/feature-flags.ts --list

Turns on the invoicing launch's feature flags, one phase at a time, through the admin API
(ROLLOUT_URL and ROLLOUT_TOKEN from the environment, as for npx rollout).

  --phase N      apply phase N (1–${INVOICING_FLAG_PHASES.length}); running a phase again changes nothing
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
    if (args.list) return (out(describePlan()), EXIT_CODES.ok);
    if (args.phase === undefined) throw new UsageError('choose a phase with --phase N (or --list)');
    const phase = INVOICING_FLAG_PHASES[args.phase - 1]!;
    const changes = Object.entries(phase.flags);
    const connection = resolveConnection({ url: args.url, actor: args.actor }, io.env);
    out(`Phase ${args.phase}/${INVOICING_FLAG_PHASES.length}: ${phase.name} (watch ${phase.watch})`);
    // The plan names its flags on purpose, so it may add one the config lacks (`create`); the
    // API refuses unknown names from anyone who does not say so.
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
    if (error instanceof ApiError) for (const issue of error.issues) err(`  ${issue}`);
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

import * as z from 'zod/mini';
import { ReasonSchema } from '../src/admin/admin-schemas';
import { TRANSITIONS } from '../src/admin/lifecycle';
import { FlagNameSchema, PercentSchema } from '../src/config/config-schema';

/** One lifecycle transition: a `POST <prefix>/<name>` with an optional reason. */
export type Transition = (typeof TRANSITIONS)[number];

/** A validated command, ready to be sent. */
export type CliCommand =
  | { name: 'status' }
  | { name: 'verdict' }
  | { name: 'health' }
  | { name: 'set'; percent: number; reason?: string }
  | { name: Transition; reason?: string }
  | {
      name: 'flag';
      flag: string;
      enabled: boolean;
      percent?: number;
      create?: boolean;
      weights?: { rule?: number; split: Record<string, number> };
      reason?: string;
    }
  | { name: 'kill'; targets: KillTargets | 'off'; reason?: string }
  | { name: 'audit'; limit: number; cursor?: string; since?: Since };

/** The name of a command. */
export type CommandName = CliCommand['name'];

/**
 * A percent typed on the command line: `10`, `12.5` or `12.5%`, then the core's PercentSchema
 * (0–100, at most two decimals).
 *
 * @example
 * PercentArgSchema.parse('12.5%'); // 12.5
 */
export const PercentArgSchema = z.pipe(
  z
    .string()
    .check(z.regex(/^\d{1,3}(?:\.\d+)?%?$/, 'percent must be a number from 0 to 100, e.g. 10 or 12.5')),
  z.pipe(
    z.transform((text: string) => Number(text.replace('%', ''))),
    PercentSchema,
  ),
);

/** A flag name argument: the core's FlagNameSchema. */
export const FlagNameArgSchema = FlagNameSchema;

/** The reason recorded in the audit log: the admin API's ReasonSchema. */
export const ReasonArgSchema = ReasonSchema;

/**
 * A typed flag's split on the command line: `variant=percent` pairs separated by commas, in the
 * order the split ranges take them.
 *
 * @example
 * WeightsArgSchema.parse('classic=20,modern=80'); // { classic: 20, modern: 80 }
 */
export const WeightsArgSchema = z.pipe(
  z
    .string()
    .check(
      z.regex(
        /^[A-Za-z][A-Za-z0-9_.-]{0,63}=\d{1,3}(?:\.\d{1,2})?(?:,[A-Za-z][A-Za-z0-9_.-]{0,63}=\d{1,3}(?:\.\d{1,2})?){1,49}$/,
        'weights are variant=percent pairs separated by commas, e.g. classic=20,modern=80',
      ),
    ),
  z.transform((text: string) =>
    Object.fromEntries(text.split(',').map((pair) => [pair.split('=')[0]!, Number(pair.split('=')[1])])),
  ),
);

/** `on` or `off`, as a boolean. */
export const OnOffArgSchema = z.pipe(
  z.enum(['on', 'off'], { error: 'say on or off' }),
  z.transform((word: 'on' | 'off') => word === 'on'),
);

/** What `kill` forces off, as the admin API's `PUT /kill` body takes it. */
export interface KillTargets {
  canary: boolean;
  allFlags: boolean;
  flags: string[];
}

const KillTokenSchema = z
  .string()
  .check(z.regex(/^(?:canary|flags|flag:.*)$/, 'a kill target is canary, flags or flag:<name>'));

/**
 * Kill targets: `canary`, `flags` (every flag) and `flag:<name>`, any number of them.
 *
 * @example
 * KillTargetsArgSchema.parse(['canary', 'flag:emailDelivery']);
 * // { canary: true, allFlags: false, flags: ['emailDelivery'] }
 */
export const KillTargetsArgSchema = z.pipe(
  z.array(KillTokenSchema).check(z.minLength(1, 'name what to kill: canary, flags or flag:<name>')),
  z.pipe(
    z.transform((tokens: string[]): KillTargets => ({
      canary: tokens.includes('canary'),
      allFlags: tokens.includes('flags'),
      flags: [...new Set(tokens.filter((t) => t.startsWith('flag:')).map((t) => t.slice(5)))],
    })),
    z.strictObject({ canary: z.boolean(), allFlags: z.boolean(), flags: z.array(FlagNameSchema) }),
  ),
);

/** How many audit entries to show: 1–1000. */
export const LimitArgSchema = z.pipe(
  z.string().check(z.regex(/^\d{1,4}$/, 'limit must be a whole number from 1 to 1000')),
  z.pipe(
    z.transform(Number),
    z.int().check(z.gte(1, 'limit must be at least 1'), z.lte(1000, 'limit must be at most 1000')),
  ),
);

/** How far back `audit --since` reaches: a span before now, or a moment. */
export type Since = { agoMs: number } | { atMs: number };

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--since`: a span (`30m`, `24h`, `7d`) or an ISO date-time (`2026-11-25T12:00:00Z`).
 *
 * @example
 * SinceArgSchema.parse('24h'); // { agoMs: 86400000 }
 */
export const SinceArgSchema = z.pipe(
  z.union([z.string().check(z.regex(/^\d{1,5}[mhd]$/)), z.iso.datetime({ offset: true })], {
    error: 'since must be a span like 30m, 24h or 7d, or an ISO date-time',
  }),
  z.transform((text: string): Since => {
    const span = /^(\d+)([mhd])$/.exec(text);
    if (span) return { agoMs: Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS] };
    return { atMs: Date.parse(text) };
  }),
);

/** An audit page cursor, passed back as the API gave it. */
export const CursorArgSchema = z.string().check(z.minLength(1), z.maxLength(2048));

/** The options a command may take besides the global ones. */
export type CommandOption =
  'reason' | 'percent' | 'limit' | 'cursor' | 'since' | 'create' | 'weights' | 'rule';

/** What the command line holds for one command: named positionals and option values. */
export type CommandInput = Record<string, string | string[] | boolean | undefined>;

/** One command: its help, its arguments, and the schema that turns them into a CliCommand. */
export interface CommandSpec {
  name: CommandName;
  /** Positional argument names in order; a trailing `...` takes the rest. */
  positionals: readonly string[];
  options: readonly CommandOption[];
  usage: string;
  summary: string;
  details: readonly string[];
  examples: readonly string[];
  /** Whether the route needs the admin token (`health` does not). */
  needsToken: boolean;
  schema: z.ZodMiniType<CliCommand, CommandInput>;
}

const reason = { reason: z.optional(ReasonArgSchema) };
const REASON_HELP = '--reason TEXT   why, kept in the audit log (1–500 chars)';

const transitionHelp: Record<Transition, [string, string]> = {
  promote: ['Send everyone to the canary (ramping or paused → promoted).', 'npx rollout promote'],
  finalize: ['Make the canary the new stable (promoted → finalized).', 'npx rollout finalize'],
  abort: [
    'Send everyone back to stable (ramping, paused or promoted → aborted).',
    'npx rollout abort --reason "p95 above 2 s"',
  ],
  pause: ['Hold the current percent (ramping → paused).', 'npx rollout pause'],
  resume: ['Release a hold (paused → ramping).', 'npx rollout resume'],
  undo: ['Restore the previous config version, as a new version.', 'npx rollout undo'],
};

const transitionSpecs: CommandSpec[] = TRANSITIONS.map((name) => ({
  name,
  positionals: [],
  options: ['reason'],
  usage: `${name} [--reason TEXT]`,
  summary: transitionHelp[name][0],
  details: [REASON_HELP],
  examples: [transitionHelp[name][1]],
  needsToken: true,
  schema: z.pipe(
    z.strictObject(reason),
    z.transform((input): CliCommand => ({ name, ...input })),
  ),
}));

/**
 * Every command of `npx rollout`, in the order the help lists them. The help text, the
 * argument checks and the option whitelist all come from this table.
 *
 * @example
 * COMMAND_SPECS.find((spec) => spec.name === 'set')?.usage; // 'set <percent> [--reason TEXT]'
 */
export const COMMAND_SPECS: readonly CommandSpec[] = [
  {
    name: 'status',
    positionals: [],
    options: [],
    usage: 'status',
    summary: 'Show the state, percent, version, kill switch, flags and the guard verdict.',
    details: [],
    examples: ['npx rollout status', 'npx rollout status --json'],
    needsToken: true,
    schema: z.pipe(
      z.strictObject({}),
      z.transform((): CliCommand => ({ name: 'status' })),
    ),
  },
  {
    name: 'verdict',
    positionals: [],
    options: [],
    usage: 'verdict',
    summary: "Show the guard's latest verdict: the per-metric table, split test, propagation and action.",
    details: [],
    examples: ['npx rollout verdict', 'npx rollout verdict --json'],
    needsToken: true,
    schema: z.pipe(
      z.strictObject({}),
      z.transform((): CliCommand => ({ name: 'verdict' })),
    ),
  },
  {
    name: 'set',
    positionals: ['percent'],
    options: ['reason'],
    usage: 'set <percent> [--reason TEXT]',
    summary: 'Set the canary percent (0–100, at most two decimals).',
    details: [REASON_HELP],
    examples: ['npx rollout set 10', 'npx rollout set 12.5 --reason "step 2"'],
    needsToken: true,
    schema: z.pipe(
      z.strictObject({ percent: PercentArgSchema, ...reason }),
      z.transform((input): CliCommand => ({ name: 'set', ...input })),
    ),
  },
  ...transitionSpecs,
  {
    name: 'flag',
    positionals: ['name', 'state'],
    options: ['percent', 'weights', 'rule', 'create', 'reason'],
    usage: 'flag <name> on|off [--percent N | --weights V=N,V=N [--rule I]] [--create] [--reason TEXT]',
    summary: "Turn a flag on (optionally for N % of visitors, or with a typed flag's new split) or off.",
    details: [
      '--percent N     the share of visitors who get a boolean flag (0–100; only with on)',
      "--weights V=N,… a typed flag's split, variant=percent pairs summing to 100 (only with on)",
      '--rule I        the rule (from 0) whose split --weights sets; without it, the fallthrough',
      '--create        add the flag when the config does not have it yet (without it, an',
      '                unknown name is refused with the list of known flags: a typo never',
      '                creates a flag)',
      REASON_HELP,
    ],
    examples: [
      'npx rollout flag emailDelivery on --percent 25',
      'npx rollout flag templates off',
      'npx rollout flag newFeature on --percent 5 --create',
      'npx rollout flag invoiceTemplateVersion on --weights classic=20,modern=80',
    ],
    needsToken: true,
    schema: z.pipe(
      z
        .strictObject({
          name: FlagNameArgSchema,
          state: OnOffArgSchema,
          percent: z.optional(PercentArgSchema),
          weights: z.optional(WeightsArgSchema),
          rule: z.optional(
            z.pipe(
              z.string().check(z.regex(/^\d{1,2}$/, 'rule is a rule index, e.g. 0')),
              z.transform(Number),
            ),
          ),
          create: z.optional(z.literal(true)),
          ...reason,
        })
        .check(
          z.refine((input) => input.state || input.percent === undefined, {
            message: '--percent goes with on, not off',
            path: ['percent'],
          }),
          z.refine((input) => input.state || input.weights === undefined, {
            message: '--weights goes with on, not off',
            path: ['weights'],
          }),
          z.refine((input) => input.weights === undefined || input.percent === undefined, {
            message: '--weights (a typed flag) and --percent (a boolean flag) do not go together',
            path: ['weights'],
          }),
          z.refine((input) => input.rule === undefined || input.weights !== undefined, {
            message: '--rule goes with --weights',
            path: ['rule'],
          }),
        ),
      z.transform(({ name, state, weights, rule, ...rest }): CliCommand => ({
        name: 'flag',
        flag: name,
        enabled: state,
        ...rest,
        ...(weights ? { weights: rule === undefined ? { split: weights } : { rule, split: weights } } : {}),
      })),
    ),
  },
  {
    name: 'kill',
    positionals: ['target...'],
    options: ['reason'],
    usage: 'kill canary|flags|flag:<name>... | kill off [--reason TEXT]',
    summary: 'Set the kill switch (adds to what is already killed), or lift it with off.',
    details: [
      'canary          everyone to stable, whatever the config says',
      'flags           every flag off',
      'flag:<name>     one flag off',
      'off             lift the kill switch',
      REASON_HELP,
      'When the API is down or failing, prints the `wrangler kv key put` command that does the same.',
    ],
    examples: ['npx rollout kill canary', 'npx rollout kill flag:emailDelivery', 'npx rollout kill off'],
    needsToken: true,
    schema: z.pipe(
      z.strictObject({
        target: z.union([z.tuple([z.literal('off')]), KillTargetsArgSchema], {
          error: 'a kill target is canary, flags, flag:<name>, or off alone',
        }),
        ...reason,
      }),
      z.transform(({ target, reason }): CliCommand => ({
        name: 'kill',
        targets: Array.isArray(target) ? 'off' : target,
        ...(reason === undefined ? {} : { reason }),
      })),
    ),
  },
  {
    name: 'audit',
    positionals: [],
    options: ['limit', 'since', 'cursor'],
    usage: 'audit [--limit N] [--since 24h|ISO] [--cursor C]',
    summary: 'List audit entries, newest first.',
    details: [
      '--limit N       how many entries at most (1–1000, default 20)',
      '--since SPAN    only entries newer than 30m, 24h, 7d or an ISO date-time',
      '--cursor C      continue from the cursor a previous --json page returned',
    ],
    examples: ['npx rollout audit --limit 5', 'npx rollout audit --since 24h --json'],
    needsToken: true,
    schema: z.pipe(
      z.strictObject({
        limit: z._default(LimitArgSchema, 20),
        since: z.optional(SinceArgSchema),
        cursor: z.optional(CursorArgSchema),
      }),
      z.transform((input): CliCommand => ({ name: 'audit', ...input })),
    ),
  },
  {
    name: 'health',
    positionals: [],
    options: [],
    usage: 'health',
    summary: 'Check that the admin API answers (needs no token).',
    details: [],
    examples: ['npx rollout health'],
    needsToken: false,
    schema: z.pipe(
      z.strictObject({}),
      z.transform((): CliCommand => ({ name: 'health' })),
    ),
  },
];

import * as z from 'zod/mini';

/**
 * The flag model: today's boolean flags (`{enabled, percent, seed, default}`, read unchanged) and
 * typed flags (one type, named variants, an off variant, ordered rules, prerequisites), the
 * conditions rules test, and the segments they reuse. The checks that need the whole config
 * (unknown segments, variant types, weights, prerequisite cycles, limits, header size) are in
 * flag-checks.ts.
 * Evaluation lives in src/split/evaluate-flags.ts and src/split/flag-conditions.ts.
 */

/** Flag names: short identifiers, safe as JSON keys, KV tokens and header content. */
export const FlagNameSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
      'flag names are 1–64 chars of [A-Za-z0-9_.-], starting with a letter',
    ),
  );

/** Variant and segment names: the same shape as flag names. */
export const VariantNameSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
      'variant names are 1–64 chars of [A-Za-z0-9_.-], starting with a letter',
    ),
  );

/** Segment names: the same shape as flag names. */
export const SegmentNameSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
      'segment names are 1–64 chars of [A-Za-z0-9_.-], starting with a letter',
    ),
  );

/** A percentage from 0 to 100 with at most two decimals (one bucket is 0.01 %). */
export const PercentSchema = z.number().check(
  z.gte(0, 'percent must be at least 0'),
  z.lte(100, 'percent must be at most 100'),
  // multipleOf(0.01) fails on float noise (0.29 % 0.01 ≠ 0), so count whole buckets instead: a
  // two-decimal literal and its bucket count divided by 100 are the same double, while a value
  // between buckets (5e-324, 10.005) is not one, however close to one it is.
  z.refine((value) => Math.round(value * 100) / 100 === value, 'percent allows at most two decimals'),
);

/**
 * A condition's attribute: `id`, `path`, `method`, `country`, `continent`, `colo`, `email`,
 * `header.<lower-case name>`, `cookie.<name>`, or any other name an OFREP context carries.
 */
export const AttributeNameSchema = z
  .string()
  .check(
    z.regex(
      /^(?:header\.[a-z0-9-]{1,64}|cookie\.[A-Za-z0-9_-]{1,64}|[A-Za-z_][A-Za-z0-9_.-]{0,63})$/,
      'attributes are id, path, method, country, continent, colo, email, header.<name>, cookie.<name> or a context name',
    ),
  );

/**
 * A union that validates its input against the one form it picks (by the keys it has), so that a
 * bad value gets that form's issues with their paths, never a bare "matches none of the forms".
 * The union stays the schema's second stage, so the JSON Schema still shows every form.
 */
function dispatched<U extends z.ZodMiniUnion>(
  union: U,
  pick: (input: Record<string, unknown>) => z.ZodMiniType,
) {
  return z.pipe(
    z.transform((input: unknown, ctx) => {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
      const parsed = pick(input as Record<string, unknown>).safeParse(input);
      if (parsed.success) return input;
      for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input } as never);
      return z.NEVER;
    }),
    union,
  );
}

/** Operators. Every one runs in linear time in its input; there are no regular expressions. */
export const OperatorSchema = z.enum([
  'equals',
  'notEquals',
  'in',
  'notIn',
  'startsWith',
  'endsWith',
  'contains',
  'lt',
  'lte',
  'gt',
  'gte',
  'semverEquals',
  'semverLt',
  'semverLte',
  'semverGt',
  'semverGte',
  'exists',
  'notExists',
]);

/** One operator. */
export type Operator = z.infer<typeof OperatorSchema>;

const OperandSchema = z.union([z.string().check(z.maxLength(256)), z.number()]);

/**
 * One test of one attribute. `in`, `notIn` and the string operators take `values` (any of them
 * matches; `notIn`: none of them), the others one `value`; `exists`/`notExists` take neither.
 *
 * @example
 * { attribute: 'email', op: 'endsWith', values: ['@invoicing.example'] }
 */
export const ClauseSchema = z
  .strictObject({
    attribute: AttributeNameSchema,
    op: OperatorSchema,
    value: z.optional(OperandSchema),
    values: z.optional(z.array(OperandSchema).check(z.minLength(1), z.maxLength(1000))),
  })
  .check(
    z.superRefine((clause, ctx) => {
      const problem = operandProblem(clause);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: clause, path: ['op'] });
    }),
  );

/** One clause. */
export type Clause = z.infer<typeof ClauseSchema>;

const LIST_OPS = new Set<Operator>(['in', 'notIn', 'startsWith', 'endsWith', 'contains']);
const NUMERIC_OPS = new Set<Operator>(['lt', 'lte', 'gt', 'gte']);

function operandProblem({ op, value, values }: Clause): string | undefined {
  if (op === 'exists' || op === 'notExists')
    return value !== undefined || values !== undefined ? `${op} takes no value` : undefined;
  if (LIST_OPS.has(op)) {
    // One value is accepted for a list operator, as a list of one.
    if (values === undefined && value === undefined) return `${op} needs "values"`;
    if (values !== undefined && value !== undefined) return `${op} takes "values" or "value", not both`;
    return undefined;
  }
  if (values !== undefined) return `${op} takes one "value", not "values"`;
  if (value === undefined) return `${op} needs a "value"`;
  if (NUMERIC_OPS.has(op) && typeof value !== 'number')
    return `${op} compares numbers: "value" must be a number`;
  if (op.startsWith('semver') && (typeof value !== 'string' || !isSemver(value)))
    return `${op} needs a version such as "1.4.0" as "value"`;
  return undefined;
}

/** Whether a text is a version `MAJOR.MINOR.PATCH` (an optional `v` and `-pre`/`+build` accepted). */
export function isSemver(text: string): boolean {
  return /^v?\d{1,9}(?:\.\d{1,9}){0,2}(?:-[0-9A-Za-z.-]{1,64})?(?:\+[0-9A-Za-z.-]{1,64})?$/.test(text);
}

/** A segment test: the visitor is (or with `notSegment`, is not) in a named segment. */
const SegmentRefSchema = z.strictObject({ segment: SegmentNameSchema });
const NotSegmentRefSchema = z.strictObject({ notSegment: SegmentNameSchema });

/** Any of these clauses or segment tests (OR); a rule's or segment's list is their AND. */
const pickSimple = (input: Record<string, unknown>) =>
  'segment' in input ? SegmentRefSchema : 'notSegment' in input ? NotSegmentRefSchema : ClauseSchema;
const SimpleConditionSchema = dispatched(
  z.union([ClauseSchema, SegmentRefSchema, NotSegmentRefSchema]),
  pickSimple,
);
const AnyOfSchema = z.strictObject({
  any: z.array(SimpleConditionSchema).check(z.minLength(1), z.maxLength(50)),
});

/**
 * A condition of a rule: a clause, a segment test, or `any` of them. A rule's `when` list holds
 * when every condition holds.
 */
export const ConditionSchema = dispatched(
  z.union([ClauseSchema, SegmentRefSchema, NotSegmentRefSchema, AnyOfSchema]),
  (input) => ('any' in input ? AnyOfSchema : pickSimple(input)),
);

/** One condition. */
export type Condition = z.infer<typeof ConditionSchema>;

const ConditionsSchema = z.array(ConditionSchema).check(z.maxLength(50));

/**
 * A segment: a reusable, named set of conditions (all must hold). Segments do not reference other
 * segments, so a segment is one flat test.
 *
 * @example
 * { description: 'staff', when: [{ attribute: 'email', op: 'endsWith', values: ['@invoicing.example'] }] }
 */
export const SegmentSchema = z.strictObject({
  description: z.optional(z.string().check(z.maxLength(500))),
  when: ConditionsSchema.check(z.minLength(1)),
});

/** One segment. */
export type Segment = z.infer<typeof SegmentSchema>;

/**
 * What a rule serves: one variant, or a sticky weighted split (weights in percent, summing to
 * 100, in the order written; `coverage` is the share of visitors the split takes at all; the
 * others fall through to the next rule, as in GrowthBook).
 */
const ServeVariantSchema = z.strictObject({ variant: VariantNameSchema });
const ServeSplitSchema = z.strictObject({
  split: z.record(VariantNameSchema, PercentSchema),
  coverage: z.optional(PercentSchema),
});
export const ServeSchema = dispatched(z.union([ServeVariantSchema, ServeSplitSchema]), (input) =>
  'split' in input ? ServeSplitSchema : ServeVariantSchema,
);

/** What a rule serves. */
export type Serve = z.infer<typeof ServeSchema>;

/** A rule: when every condition holds (an empty list always holds), serve this. */
export const RuleSchema = z.strictObject({
  /** A label for people and the OFREP metadata. */
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  when: z._default(ConditionsSchema, []),
  serve: ServeSchema,
});

/** One rule. */
export type Rule = z.infer<typeof RuleSchema>;

const JsonValueSchema: z.ZodMiniType<unknown> = z.unknown().check(
  z.refine((value) => {
    try {
      return JSON.stringify(value) !== undefined && typeof value !== 'function';
    } catch {
      return false;
    }
  }, 'must be a JSON value'),
);

/** A prerequisite: this flag is evaluated only when `flag` serves one of `variants`. */
export const PrerequisiteSchema = z.strictObject({
  flag: FlagNameSchema,
  variants: z.array(VariantNameSchema).check(z.minLength(1), z.maxLength(50)),
});

/** A flag's type. `json` values are objects or arrays (what OFREP calls an object flag). */
export const FlagTypeSchema = z.enum(['boolean', 'string', 'number', 'json']);

/**
 * A typed flag. `offVariant` is served when it is off (`enabled: false`), killed, or a
 * prerequisite fails; `fallthrough` (default: the off variant) when no rule matches.
 *
 * @example
 * {
 *   type: 'string', variants: { classic: 'v1', modern: 'v2' }, offVariant: 'classic',
 *   rules: [{ when: [{ segment: 'employees' }], serve: { variant: 'modern' } }],
 *   fallthrough: { split: { classic: 50, modern: 50 } },
 * }
 */
export const TypedFlagSchema = z.strictObject({
  type: FlagTypeSchema,
  variants: z.record(VariantNameSchema, JsonValueSchema),
  offVariant: VariantNameSchema,
  enabled: z._default(z.boolean(), true),
  /** Hash seed of its splits; defaults to the flag's name so flags split independently. */
  seed: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  description: z.optional(z.string().check(z.maxLength(500))),
  prerequisites: z.optional(z.array(PrerequisiteSchema).check(z.maxLength(10))),
  rules: z._default(z.array(RuleSchema), []),
  fallthrough: z.optional(ServeSchema),
});

/** A typed flag. */
export type TypedFlag = z.infer<typeof TypedFlagSchema>;

/**
 * Today's boolean flag: `enabled` turns its rollout on; visitors outside `percent` get `default`.
 * Read unchanged: it is a boolean flag with variants `on`/`off`.
 */
export const BooleanFlagSchema = z.strictObject({
  enabled: z.boolean(),
  percent: z._default(PercentSchema, 100),
  /** Hash seed; defaults to the flag's name so flags split independently. */
  seed: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  default: z._default(z.boolean(), false),
});

/** Today's boolean flag. */
export type BooleanFlag = z.infer<typeof BooleanFlagSchema>;

/** One flag of the config: today's boolean form, or a typed flag (it has a `type`). */
export const FlagSchema = dispatched(z.union([BooleanFlagSchema, TypedFlagSchema]), (input) =>
  'type' in input || 'variants' in input ? TypedFlagSchema : BooleanFlagSchema,
);

/** One validated flag. */
export type FlagConfig = z.infer<typeof FlagSchema>;

/** Whether a flag is a typed flag. */
export function isTypedFlag(flag: FlagConfig): flag is TypedFlag {
  return 'type' in flag;
}

/** The segments record: named condition sets. */
export const SegmentsSchema = z.record(SegmentNameSchema, SegmentSchema);

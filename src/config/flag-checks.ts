import * as z from 'zod/mini';
import {
  isTypedFlag,
  type Condition,
  type FlagConfig,
  type Segment,
  type Serve,
  type TypedFlag,
} from './flag-schema';

/**
 * The checks of the flag model that need the whole config: variant names and types, weights,
 * segments and prerequisites that exist, no prerequisite cycle, the limits, and the largest
 * `x-feature-flags` header. The config schema runs them as one check ({@link flagConfigCheck}).
 */

/** Limits a config is refused beyond (400 naming the path). */
export const FLAG_LIMITS = {
  flags: 200,
  rulesPerFlag: 50,
  segments: 100,
  variantsPerFlag: 50,
  configBytes: 1024 * 1024,
  /** `x-feature-flags` with every flag at its largest value stays below this. */
  headerBytes: 4096,
} as const;

type Issue = { path: (string | number)[]; message: string };

/**
 * The checks that need the whole config: variant names and types, weights summing to 100 %,
 * segments and prerequisites that exist, no prerequisite cycle, the limits, and the largest
 * `x-feature-flags` header the flags can produce. Each issue names its path.
 *
 * @example
 * flagConfigIssues({ a: { type: 'number', variants: { x: 'one' }, offVariant: 'x', enabled: true, rules: [] } }, {});
 * // [{ path: ['flags', 'a', 'variants', 'x'], message: 'variant "x" of a number flag must be a finite number' }]
 */
export function flagConfigIssues(
  flags: Readonly<Record<string, FlagConfig>>,
  segments: Readonly<Record<string, Segment>>,
): Issue[] {
  const issues: Issue[] = [];
  const names = Object.keys(flags);
  if (names.length > FLAG_LIMITS.flags)
    issues.push({ path: ['flags'], message: `at most ${FLAG_LIMITS.flags} flags (${names.length} given)` });
  const segmentNames = Object.keys(segments);
  if (segmentNames.length > FLAG_LIMITS.segments)
    issues.push({
      path: ['segments'],
      message: `at most ${FLAG_LIMITS.segments} segments (${segmentNames.length} given)`,
    });
  for (const name of segmentNames)
    segments[name]!.when.forEach((condition, i) =>
      checkCondition(condition, ['segments', name, 'when', i], segments, issues, false),
    );
  for (const name of names) {
    const flag = flags[name]!;
    if (isTypedFlag(flag)) checkTypedFlag(name, flag, flags, segments, issues);
  }
  issues.push(...prerequisiteCycles(flags));
  const header = largestHeader(flags);
  if (header.bytes >= FLAG_LIMITS.headerBytes)
    issues.push({
      path: ['flags'],
      message: `x-feature-flags could reach ${header.bytes} bytes with every flag at its largest value (limit ${FLAG_LIMITS.headerBytes - 1}); largest: ${header.largest.join(', ')}`,
    });
  return issues;
}

function checkTypedFlag(
  name: string,
  flag: TypedFlag,
  flags: Readonly<Record<string, FlagConfig>>,
  segments: Readonly<Record<string, Segment>>,
  issues: Issue[],
): void {
  const at = (...path: (string | number)[]) => ['flags', name, ...path];
  const variants = Object.keys(flag.variants);
  if (variants.length === 0)
    issues.push({ path: at('variants'), message: 'a flag needs at least one variant' });
  if (variants.length > FLAG_LIMITS.variantsPerFlag)
    issues.push({ path: at('variants'), message: `at most ${FLAG_LIMITS.variantsPerFlag} variants` });
  for (const variant of variants) {
    const problem = typeProblem(flag.type, flag.variants[variant]);
    if (problem) issues.push({ path: at('variants', variant), message: `variant "${variant}" ${problem}` });
  }
  const known = (variant: string, path: (string | number)[]) => {
    if (!Object.hasOwn(flag.variants, variant))
      issues.push({ path, message: `unknown variant "${variant}" (variants: ${variants.join(', ')})` });
  };
  known(flag.offVariant, at('offVariant'));
  if (flag.rules.length > FLAG_LIMITS.rulesPerFlag)
    issues.push({ path: at('rules'), message: `at most ${FLAG_LIMITS.rulesPerFlag} rules a flag` });
  const checkServe = (serve: Serve, path: (string | number)[]) => {
    if ('variant' in serve) return known(serve.variant, [...path, 'variant']);
    let buckets = 0;
    for (const [variant, weight] of Object.entries(serve.split)) {
      known(variant, [...path, 'split', variant]);
      buckets += Math.round(weight * 100);
    }
    if (buckets !== 10_000)
      issues.push({
        path: [...path, 'split'],
        message: `weights must sum to 100 % (they sum to ${buckets / 100} %)`,
      });
  };
  flag.rules.forEach((rule, i) => {
    checkServe(rule.serve, at('rules', i, 'serve'));
    rule.when.forEach((condition, j) =>
      checkCondition(condition, at('rules', i, 'when', j), segments, issues, true),
    );
  });
  if (flag.fallthrough) checkServe(flag.fallthrough, at('fallthrough'));
  flag.prerequisites?.forEach((prerequisite, i) => {
    const other = Object.hasOwn(flags, prerequisite.flag) ? flags[prerequisite.flag] : undefined;
    if (!other) {
      issues.push({ path: at('prerequisites', i, 'flag'), message: `unknown flag "${prerequisite.flag}"` });
      return;
    }
    const otherVariants = isTypedFlag(other) ? Object.keys(other.variants) : ['on', 'off'];
    prerequisite.variants.forEach((variant, j) => {
      if (!otherVariants.includes(variant))
        issues.push({
          path: at('prerequisites', i, 'variants', j),
          message: `flag "${prerequisite.flag}" has no variant "${variant}" (variants: ${otherVariants.join(', ')})`,
        });
    });
  });
}

function checkCondition(
  condition: Condition,
  path: (string | number)[],
  segments: Readonly<Record<string, Segment>>,
  issues: Issue[],
  segmentsAllowed: boolean,
): void {
  if ('any' in condition) {
    condition.any.forEach((inner, i) =>
      checkCondition(inner, [...path, 'any', i], segments, issues, segmentsAllowed),
    );
    return;
  }
  const segment =
    'segment' in condition ? condition.segment : 'notSegment' in condition ? condition.notSegment : undefined;
  if (segment === undefined) return;
  const key = 'segment' in condition ? 'segment' : 'notSegment';
  if (!segmentsAllowed)
    issues.push({ path: [...path, key], message: 'a segment cannot reference another segment' });
  else if (!Object.hasOwn(segments, segment))
    issues.push({
      path: [...path, key],
      message: `unknown segment "${segment}" (segments: ${Object.keys(segments).join(', ') || 'none'})`,
    });
}

function typeProblem(type: TypedFlag['type'], value: unknown): string | undefined {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'of a boolean flag must be true or false';
    case 'string':
      return typeof value === 'string' ? undefined : 'of a string flag must be a string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : 'of a number flag must be a finite number';
    case 'json':
      return typeof value === 'object' && value !== null
        ? undefined
        : 'of a json flag must be an object or an array';
  }
}

/** Every prerequisite cycle, each named once by the path of the flag it was found at. */
function prerequisiteCycles(flags: Readonly<Record<string, FlagConfig>>): Issue[] {
  const issues: Issue[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    const flag = Object.hasOwn(flags, name) ? flags[name] : undefined;
    const prerequisites = flag && isTypedFlag(flag) ? (flag.prerequisites ?? []) : [];
    prerequisites.forEach((prerequisite, i) => {
      const next = prerequisite.flag;
      if (!Object.hasOwn(flags, next)) return;
      if (state.get(next) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        issues.push({
          path: ['flags', name, 'prerequisites', i, 'flag'],
          message: `prerequisite cycle: ${cycle.join(' → ')}`,
        });
      } else if (!state.has(next)) visit(next);
    });
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of Object.keys(flags)) if (!state.has(name)) visit(name);
  return issues;
}

const utf8 = new TextEncoder();

/**
 * The largest `x-feature-flags` the flags can produce: every flag at its largest value, as
 * `JSON.stringify` writes it. Returns the size in bytes and the five flags that weigh most.
 *
 * @example
 * largestHeader({ a: { enabled: true, percent: 100, default: false } }); // { bytes: 11, largest: ['a'] }
 */
export function largestHeader(flags: Readonly<Record<string, FlagConfig>>): {
  bytes: number;
  largest: string[];
} {
  const weights: [string, number][] = [];
  let bytes = 2;
  for (const name of Object.keys(flags)) {
    const flag = flags[name]!;
    const values = isTypedFlag(flag) ? Object.values(flag.variants) : [false];
    let max = 0;
    for (const value of values) max = Math.max(max, utf8.encode(JSON.stringify(value) ?? 'null').length);
    const weight = utf8.encode(JSON.stringify(name)).length + 1 + max;
    weights.push([name, weight]);
    bytes += weight + (weights.length > 1 ? 1 : 0);
  }
  const largest = weights
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name]) => name);
  return { bytes, largest };
}

/**
 * The config-level check that {@link flagConfigIssues} runs as: add it to the config schema with
 * `.check(...)`. The config is also refused past 1 MiB of JSON.
 */
export const flagConfigCheck = z.superRefine(
  (config: { flags: Record<string, FlagConfig>; segments: Record<string, Segment> }, ctx) => {
    for (const issue of flagConfigIssues(config.flags, config.segments))
      ctx.addIssue({ code: 'custom', message: issue.message, input: config, path: issue.path });
    const bytes = utf8.encode(JSON.stringify(config)).length;
    if (bytes > FLAG_LIMITS.configBytes)
      ctx.addIssue({
        code: 'custom',
        message: `the config is ${bytes} bytes of JSON; the limit is ${FLAG_LIMITS.configBytes} (1 MiB)`,
        input: config,
        path: [],
      });
  },
);

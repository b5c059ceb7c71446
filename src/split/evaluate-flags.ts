import type { KillSwitch } from '../config/config-schema';
import {
  isTypedFlag,
  type BooleanFlag,
  type FlagConfig,
  type Segment,
  type Serve,
} from '../config/flag-schema';
import { BUCKETS, fnv1a32, seededBucket } from './bucket';
import {
  compileConditions,
  compileSegment,
  type CompiledCondition,
  type FlagContext,
} from './flag-conditions';

/**
 * Why a flag has its value: OpenFeature reasons, plus KILLED (the kill switch),
 * PREREQUISITE_FAILED (a prerequisite flag served another variant) and OVERRIDE (a QA override
 * link pinned the variant for this browser).
 */
export type FlagReason =
  | 'OVERRIDE'
  | 'STATIC'
  | 'SPLIT'
  | 'DEFAULT'
  | 'DISABLED'
  | 'KILLED'
  | 'TARGETING_MATCH'
  | 'PREREQUISITE_FAILED'
  | 'ERROR';

/** A flag's value: boolean, string, number, or a JSON object or array. */
export type FlagValue = boolean | string | number | object;

/** One flag's evaluation. Evaluation never throws. */
export interface FlagResult {
  readonly value: FlagValue;
  readonly reason: FlagReason;
  /** The variant served (`on`/`off` for today's boolean flags). */
  readonly variant: string;
  /** The index of the rule that matched, for TARGETING_MATCH and a rule's SPLIT. */
  readonly rule?: number;
}

/** A flag set prepared for evaluation, and the object every result map is cloned from. */
interface CompiledFlags {
  list: CompiledFlag[];
  /** Every flag name, so that a clone of it has its final shape before any value is written. */
  template: Record<string, FlagResult>;
  segments: readonly CompiledCondition[];
  /** Whether any flag reads more than the id (rules, prerequisites): else the fast path runs. */
  typed: boolean;
}

type CompiledFlag = CompiledBoolean | CompiledTyped;

/** Today's boolean flag: its seed hashed and its threshold in buckets. */
interface CompiledBoolean {
  kind: 'boolean';
  name: string;
  flag: BooleanFlag;
  seedHash: number;
  /** Visitors with a bucket below this get `true`. */
  threshold: number;
}

/** A typed flag: every result it can give made once, its rules compiled. */
interface CompiledTyped {
  kind: 'typed';
  name: string;
  /** The variants' values, for a QA pin. */
  variants: Readonly<Record<string, unknown>>;
  enabled: boolean;
  seedHash: number;
  killed: FlagResult;
  disabled: FlagResult;
  prerequisiteFailed: FlagResult;
  error: FlagResult;
  prerequisites: { index: number; variants: ReadonlySet<string> }[];
  rules: { when: CompiledCondition; serve: CompiledServe }[];
  fallthrough: CompiledServe;
}

/** A variant (`ranges` empty) or a split: visitor `n` in `ranges[i]` gets `results[i]`. */
interface CompiledServe {
  results: FlagResult[];
  ranges: [number, number][];
}

// Results are shared immutable values: evaluation allocates nothing per flag.
const RESULT = {
  killed: Object.freeze({ value: false, reason: 'KILLED', variant: 'off' }),
  static: Object.freeze({ value: true, reason: 'STATIC', variant: 'on' }),
  split: Object.freeze({ value: true, reason: 'SPLIT', variant: 'on' }),
  disabledOn: Object.freeze({ value: true, reason: 'DISABLED', variant: 'on' }),
  disabledOff: Object.freeze({ value: false, reason: 'DISABLED', variant: 'off' }),
  defaultOn: Object.freeze({ value: true, reason: 'DEFAULT', variant: 'on' }),
  defaultOff: Object.freeze({ value: false, reason: 'DEFAULT', variant: 'off' }),
} as const satisfies Record<string, FlagResult>;

const NO_SEGMENTS: Readonly<Record<string, Segment>> = Object.freeze({});

// Configs are immutable snapshots, so a flag set is compiled once per config, not per request.
const compiled = new WeakMap<object, { segments: object; compiled: CompiledFlags }>();
// The flags of the current config: almost every call asks for them, without a WeakMap lookup.
let last: { flags: object; segments: object; compiled: CompiledFlags } | undefined;

/** The flags of a config, compiled once and memoized by the flags and segments objects. */
function compileFlags(
  flags: Readonly<Record<string, FlagConfig>>,
  segments: Readonly<Record<string, Segment>>,
): CompiledFlags {
  if (last?.flags === flags && last.segments === segments) return last.compiled;
  let entry = compiled.get(flags);
  if (entry?.segments !== segments) {
    const segmentNames = Object.keys(segments);
    const segmentIndex = new Map(segmentNames.map((name, i) => [name, i]));
    const names = Object.keys(flags);
    const flagIndex = new Map(names.map((name, i) => [name, i]));
    const list = names.map((name) => compileFlag(name, flags[name]!, segmentIndex, flagIndex));
    const template: Record<string, FlagResult> = {};
    for (const { name } of list) template[name] = RESULT.killed;
    entry = {
      segments,
      compiled: {
        list,
        template,
        segments: segmentNames.map((name) => compileSegment(segments[name]!)),
        typed: list.some((flag) => flag.kind === 'typed'),
      },
    };
    compiled.set(flags, entry);
  }
  last = { flags, segments, compiled: entry.compiled };
  return entry.compiled;
}

function compileFlag(
  name: string,
  flag: FlagConfig,
  segmentIndex: ReadonlyMap<string, number>,
  flagIndex: ReadonlyMap<string, number>,
): CompiledFlag {
  const seedHash = fnv1a32(flag.seed ?? name);
  if (!isTypedFlag(flag))
    return { kind: 'boolean', name, flag, seedHash, threshold: Math.round(flag.percent * 100) };
  const result = (variant: string, reason: FlagReason, rule?: number): FlagResult =>
    Object.freeze({
      value: flag.variants[variant] as FlagValue,
      reason,
      variant,
      ...(rule === undefined ? {} : { rule }),
    });
  return {
    kind: 'typed',
    name,
    variants: flag.variants,
    enabled: flag.enabled,
    seedHash,
    killed: result(flag.offVariant, 'KILLED'),
    disabled: result(flag.offVariant, 'DISABLED'),
    prerequisiteFailed: result(flag.offVariant, 'PREREQUISITE_FAILED'),
    error: result(flag.offVariant, 'ERROR'),
    prerequisites: (flag.prerequisites ?? []).map((p) => ({
      index: flagIndex.get(p.flag) ?? -1,
      variants: new Set(p.variants),
    })),
    rules: flag.rules.map((rule, i) => ({
      when: compileConditions(rule.when, segmentIndex),
      serve: compileServe(rule.serve, (variant, split) =>
        result(variant, split ? 'SPLIT' : 'TARGETING_MATCH', i),
      ),
    })),
    fallthrough: compileServe(flag.fallthrough ?? { variant: flag.offVariant }, (variant, split) =>
      result(variant, split ? 'SPLIT' : 'DEFAULT'),
    ),
  };
}

/**
 * A split's ranges, computed as GrowthBook's `getBucketRanges` computes them (weights as
 * fractions, each range `[cumulative, cumulative + coverage × weight)`), so that a visitor's
 * `bucket / 10000` falls in the same range as GrowthBook's hash-v2 value: same variant.
 */
function compileServe(serve: Serve, result: (variant: string, split: boolean) => FlagResult): CompiledServe {
  if ('variant' in serve) return { results: [result(serve.variant, false)], ranges: [] };
  const coverage = (serve.coverage ?? 100) / 100;
  const entries = Object.entries(serve.split);
  let cumulative = 0;
  const ranges = entries.map(([, weight]): [number, number] => {
    const start = cumulative;
    cumulative += weight / 100;
    return [start, start + coverage * (weight / 100)];
  });
  return { results: entries.map(([variant]) => result(variant, true)), ranges };
}

/** The result a serve gives this visitor, or undefined when a split's coverage leaves them out. */
function served(serve: CompiledServe, seedHash: number, id: string): FlagResult | undefined {
  if (serve.ranges.length === 0) return serve.results[0];
  const n = seededBucket(seedHash, id) / BUCKETS;
  for (let i = 0; i < serve.ranges.length; i++) {
    const range = serve.ranges[i]!;
    if (n >= range[0] && n < range[1]) return serve.results[i];
  }
  return undefined;
}

/**
 * Flag → variant pins of a QA override link (`on`/`off` for a boolean flag). A pin beats
 * everything but the kill switch: a disabled flag, its rules, its prerequisites. A pin that names
 * a flag or variant the config no longer has is ignored, and the flag evaluates as usual.
 */
export type FlagPins = Readonly<Record<string, string>>;

/**
 * Evaluates every flag for one visitor. `visitor` is the id to hash, or a context whose `id` is
 * hashed and whose attributes rules test. Each flag hashes with its own seed (its name by
 * default), so flag cohorts are independent of each other and of the routing cohort. Rules run
 * in order and the first match wins; a killed flag serves its off variant. `pins` (a QA override
 * link's) serve their variant with reason OVERRIDE, and other flags' prerequisites see them.
 *
 * @example
 * evaluateFlags({ templates: { enabled: true, percent: 50, default: false } }, 'abc12345', NO_KILL);
 * // { templates: { value: true, reason: 'SPLIT', variant: 'on' } }
 * evaluateFlags({ templates: { enabled: false, percent: 0, default: false } }, 'abc12345', NO_KILL, {}, { templates: 'on' });
 * // { templates: { value: true, reason: 'OVERRIDE', variant: 'on' } }
 */
export function evaluateFlags(
  flags: Readonly<Record<string, FlagConfig>>,
  visitor: string | FlagContext,
  kill: KillSwitch,
  segments: Readonly<Record<string, Segment>> = NO_SEGMENTS,
  pins?: FlagPins,
): Record<string, FlagResult> {
  const set = compileFlags(flags, segments);
  const { list, template } = set;
  // One object per visitor, cloned with its final shape; each flag's result is a shared constant.
  const results = { ...template };
  const id = typeof visitor === 'string' ? visitor : visitor.id;
  if (!set.typed) {
    for (let i = 0; i < list.length; i++)
      results[list[i]!.name] = evaluateBoolean(list[i] as CompiledBoolean, id, kill);
    if (pins) for (const flag of list) results[flag.name] = pinned(flag, pins, kill) ?? results[flag.name]!;
    return results;
  }
  const context: FlagContext =
    typeof visitor === 'string' ? { id, attribute: (name) => (name === 'id' ? id : undefined) } : visitor;
  const run = new Evaluation(set, context, kill, pins);
  for (let i = 0; i < list.length; i++) results[list[i]!.name] = run.result(i);
  return results;
}

/** A pinned flag's result (reason OVERRIDE), or undefined: no pin, a killed flag, an unknown variant. */
function pinned(flag: CompiledFlag, pins: FlagPins, kill: KillSwitch): FlagResult | undefined {
  if (!Object.hasOwn(pins, flag.name)) return undefined;
  if (kill.allFlags || (kill.flags.size > 0 && kill.flags.has(flag.name))) return undefined;
  const variant = pins[flag.name]!;
  if (flag.kind === 'boolean') {
    if (variant !== 'on' && variant !== 'off') return undefined;
    return { value: variant === 'on', reason: 'OVERRIDE', variant };
  }
  if (!Object.hasOwn(flag.variants, variant)) return undefined;
  return { value: flag.variants[variant] as FlagValue, reason: 'OVERRIDE', variant };
}

/** The flags of a whole config for one visitor: {@link evaluateFlags} with the config's segments. */
export function evaluateConfigFlags(
  config: { flags: Readonly<Record<string, FlagConfig>>; segments: Readonly<Record<string, Segment>> },
  visitor: string | FlagContext,
  kill: KillSwitch,
  pins?: FlagPins,
): Record<string, FlagResult> {
  return evaluateFlags(config.flags, visitor, kill, config.segments, pins);
}

function evaluateBoolean(
  { name, flag, seedHash, threshold }: CompiledBoolean,
  visitorId: string,
  kill: KillSwitch,
): FlagResult {
  if (kill.allFlags || (kill.flags.size > 0 && kill.flags.has(name))) return RESULT.killed;
  if (!flag.enabled) return flag.default ? RESULT.disabledOn : RESULT.disabledOff;
  if (threshold >= BUCKETS) return RESULT.static;
  if (seededBucket(seedHash, visitorId) < threshold) return RESULT.split;
  return flag.default ? RESULT.defaultOn : RESULT.defaultOff;
}

const IN_PROGRESS = Object.freeze({ value: false, reason: 'ERROR', variant: '' }) as FlagResult;

/** One visitor's evaluation of a flag set: results memoized (prerequisites), segments too. */
class Evaluation {
  private readonly done: (FlagResult | undefined)[];
  private readonly segmentState: Int8Array;
  private readonly inSegment = (index: number): boolean => {
    let state = this.segmentState[index]!;
    if (state === 0) {
      state = this.set.segments[index]!(this.context, this.inSegment) ? 1 : 2;
      this.segmentState[index] = state;
    }
    return state === 1;
  };

  constructor(
    private readonly set: CompiledFlags,
    private readonly context: FlagContext,
    private readonly kill: KillSwitch,
    private readonly pins?: FlagPins,
  ) {
    this.done = new Array<FlagResult | undefined>(set.list.length);
    this.segmentState = new Int8Array(set.segments.length);
  }

  result(index: number): FlagResult {
    const known = this.done[index];
    if (known !== undefined) return known;
    const flag = this.set.list[index]!;
    const pin = this.pins && pinned(flag, this.pins, this.kill);
    if (pin) return (this.done[index] = pin);
    if (flag.kind === 'boolean')
      return (this.done[index] = evaluateBoolean(flag, this.context.id, this.kill));
    // A cycle is refused at validation; were one to get here, it is an error, not a loop.
    this.done[index] = IN_PROGRESS;
    let result: FlagResult;
    try {
      result = this.typed(flag);
    } catch {
      // Evaluation never throws at the caller: a defect serves the off variant, reason ERROR.
      result = flag.error;
    }
    return (this.done[index] = result);
  }

  private typed(flag: CompiledTyped): FlagResult {
    const { kill, context } = this;
    if (kill.allFlags || (kill.flags.size > 0 && kill.flags.has(flag.name))) return flag.killed;
    if (!flag.enabled) return flag.disabled;
    for (const prerequisite of flag.prerequisites) {
      if (prerequisite.index < 0) return flag.prerequisiteFailed;
      const other = this.result(prerequisite.index);
      if (other === IN_PROGRESS) return flag.error;
      if (!prerequisite.variants.has(other.variant)) return flag.prerequisiteFailed;
    }
    for (const rule of flag.rules) {
      if (!rule.when(context, this.inSegment)) continue;
      // A split whose coverage leaves the visitor out falls through to the next rule.
      const result = served(rule.serve, flag.seedHash, context.id);
      if (result) return result;
    }
    return served(flag.fallthrough, flag.seedHash, context.id) ?? flag.disabled;
  }
}

/**
 * The flag → value map sent to the origin in `x-feature-flags` and injected as
 * `window.__FLAGS__`: booleans for today's flags, typed values for typed flags.
 *
 * @example
 * flagValues({ templates: { value: true, reason: 'SPLIT', variant: 'on' } }); // { templates: true }
 */
export function flagValues(results: Readonly<Record<string, FlagResult>>): Record<string, FlagValue> {
  const values: Record<string, FlagValue> = {};
  for (const name in results) values[name] = results[name]!.value;
  return values;
}

/**
 * Every flag at its declared default (killed flags off; a typed flag at its off variant): what the
 * visitor gets when the splitter cannot evaluate, as when it fails open to stable after a defect
 * in its own code.
 *
 * @example
 * declaredDefaults({ a: { enabled: true, percent: 50, default: true } }, NO_KILL); // { a: true }
 */
export function declaredDefaults(
  flags: Readonly<Record<string, FlagConfig>>,
  kill: KillSwitch,
): Record<string, FlagValue> {
  const values: Record<string, FlagValue> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const killed = kill.allFlags || kill.flags.has(name);
    values[name] = isTypedFlag(flag)
      ? (flag.variants[flag.offVariant] as FlagValue)
      : !killed && flag.default;
  }
  return values;
}

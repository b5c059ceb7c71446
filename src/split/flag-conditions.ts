import type { Clause, Condition, Segment } from '../config/flag-schema';

/**
 * What flag rules test: the attributes of one evaluation (from the request at the edge, from the
 * evaluation context in OFREP) and the conditions compiled once per config into plain functions.
 * Every operator runs in linear time in its input: no user-supplied regular expression, list
 * membership through a Set, versions parsed in one pass.
 */

/** An attribute's value: what a request header, a cookie or an OFREP context can carry. */
export type AttributeValue = string | number | boolean;

/**
 * The attributes of one evaluation. `id` is the targeting key, the id every split hashes.
 *
 * @example
 * const context: FlagContext = { id: 'abc12345', attribute: (name) => (name === 'country' ? 'DE' : undefined) };
 */
export interface FlagContext {
  readonly id: string;
  attribute(name: string): AttributeValue | undefined;
}

/**
 * The attributes of an OFREP evaluation context: its own primitive values by name (`targetingKey`
 * is `id`), then, when given, another context for the names it lacks (the request's own, when
 * the context evaluates the requesting visitor).
 *
 * @example
 * contextAttributes('abc12345', { country: 'DE', plan: 'pro' }).attribute('plan'); // 'pro'
 */
export function contextAttributes(
  id: string,
  values: Readonly<Record<string, unknown>>,
  fallback?: FlagContext,
): FlagContext {
  return {
    id,
    attribute(name) {
      if (name === 'id') return id;
      const value = Object.hasOwn(values, name) ? values[name] : undefined;
      if (typeof value === 'string' || typeof value === 'boolean') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      return fallback?.attribute(name);
    },
  };
}

/** A compiled condition: true when it holds for the context (segments looked up by index). */
export type CompiledCondition = (context: FlagContext, inSegment: (index: number) => boolean) => boolean;

/**
 * Compiles a list of conditions (all must hold) once per config. Segment names are resolved to
 * their index in `segmentIndex`; validation has refused unknown ones, and an unknown one here
 * never matches.
 *
 * @example
 * const test = compileConditions([{ attribute: 'country', op: 'in', values: ['DE', 'FR'] }], new Map());
 * test(context, () => false); // true for a visitor from DE
 */
export function compileConditions(
  conditions: readonly Condition[],
  segmentIndex: ReadonlyMap<string, number>,
): CompiledCondition {
  const tests = conditions.map((condition) => compileCondition(condition, segmentIndex));
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (context, inSegment) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(context, inSegment)) return false;
    return true;
  };
}

/** Compiles a segment's conditions. */
export function compileSegment(segment: Segment): CompiledCondition {
  return compileConditions(segment.when, new Map());
}

function compileCondition(
  condition: Condition,
  segmentIndex: ReadonlyMap<string, number>,
): CompiledCondition {
  if ('any' in condition) {
    const tests = condition.any.map((inner) => compileCondition(inner, segmentIndex));
    return (context, inSegment) => {
      for (let i = 0; i < tests.length; i++) if (tests[i]!(context, inSegment)) return true;
      return false;
    };
  }
  if ('segment' in condition || 'notSegment' in condition) {
    const negate = 'notSegment' in condition;
    const index = segmentIndex.get('segment' in condition ? condition.segment : condition.notSegment);
    if (index === undefined) return () => false;
    return negate ? (_, inSegment) => !inSegment(index) : (_, inSegment) => inSegment(index);
  }
  const test = compileClause(condition);
  const { attribute } = condition;
  return (context) => test(context.attribute(attribute));
}

/**
 * One clause as a test of the attribute's value. A missing attribute satisfies only `notExists`:
 * `notEquals` and `notIn` need a value to compare, so a visitor without a country is not "outside
 * DE" for a rule that names countries.
 *
 * @example
 * compileClause({ attribute: 'version', op: 'semverGte', value: '2.1.0' })('2.10.0'); // true
 */
export function compileClause(clause: Clause): (value: AttributeValue | undefined) => boolean {
  const operands = (clause.values ?? (clause.value !== undefined ? [clause.value] : [])).map(String);
  const first = operands[0] ?? '';
  switch (clause.op) {
    case 'exists':
      return (value) => value !== undefined;
    case 'notExists':
      return (value) => value === undefined;
    case 'equals':
      return (value) => value !== undefined && String(value) === first;
    case 'notEquals':
      return (value) => value !== undefined && String(value) !== first;
    case 'in': {
      const set = new Set(operands);
      return (value) => value !== undefined && set.has(String(value));
    }
    case 'notIn': {
      const set = new Set(operands);
      return (value) => value !== undefined && !set.has(String(value));
    }
    case 'startsWith':
      return anyOf(operands, (text, operand) => text.startsWith(operand));
    case 'endsWith':
      return anyOf(operands, (text, operand) => text.endsWith(operand));
    case 'contains':
      return anyOf(operands, (text, operand) => text.includes(operand));
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const bound = Number(clause.value);
      const compare = NUMERIC[clause.op];
      return (value) => {
        const number = toNumber(value);
        return number !== undefined && compare(number, bound);
      };
    }
    default: {
      const bound = parseSemver(first);
      const accept = SEMVER[clause.op];
      return (value) => {
        if (value === undefined || bound === undefined) return false;
        const version = parseSemver(String(value));
        return version !== undefined && accept(compareSemver(version, bound));
      };
    }
  }
}

function anyOf(
  operands: readonly string[],
  test: (text: string, operand: string) => boolean,
): (value: AttributeValue | undefined) => boolean {
  return (value) => {
    if (value === undefined) return false;
    const text = String(value);
    for (let i = 0; i < operands.length; i++) if (test(text, operands[i]!)) return true;
    return false;
  };
}

const NUMERIC = {
  lt: (a: number, b: number) => a < b,
  lte: (a: number, b: number) => a <= b,
  gt: (a: number, b: number) => a > b,
  gte: (a: number, b: number) => a >= b,
};

const SEMVER: Record<string, (order: number) => boolean> = {
  semverEquals: (order) => order === 0,
  semverLt: (order) => order < 0,
  semverLte: (order) => order <= 0,
  semverGt: (order) => order > 0,
  semverGte: (order) => order >= 0,
};

// A header's "42" compares as the number 42; text that is not a plain decimal number never does.
function toNumber(value: AttributeValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.length === 0 || value.length > 32) return undefined;
  const number = Number(value);
  return Number.isFinite(number) && value.trim() === value ? number : undefined;
}

/** A parsed version: major, minor, patch, and the pre-release identifiers (empty for a release). */
interface Semver {
  core: [number, number, number];
  pre: string[];
}

/**
 * Parses `[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]` in one pass (missing parts are 0; build
 * metadata is ignored, as SemVer says). Undefined for anything else.
 */
export function parseSemver(text: string): Semver | undefined {
  if (text.length > 256) return undefined;
  let i = text.startsWith('v') ? 1 : 0;
  const core: [number, number, number] = [0, 0, 0];
  for (let part = 0; part < 3; part++) {
    const start = i;
    let number = 0;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57)
      number = number * 10 + (text.charCodeAt(i++) - 48);
    if (i === start || i - start > 9) return undefined;
    core[part] = number;
    if (text[i] !== '.') break;
    if (part === 2) return undefined;
    i++;
  }
  let pre: string[] = [];
  if (text[i] === '-') {
    const end = text.indexOf('+', i);
    pre = text.slice(i + 1, end < 0 ? undefined : end).split('.');
    if (pre.some((id) => id === '')) return undefined;
    i = end < 0 ? text.length : end;
  }
  if (i < text.length && text[i] !== '+') return undefined;
  return { core, pre };
}

/** SemVer precedence: negative, zero or positive. */
export function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! - b.core[i]!;
  // A release ranks above its pre-releases.
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const [x, y] = [a.pre[i]!, b.pre[i]!];
    if (x === y) continue;
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.pre.length - b.pre.length;
}

import type { BusinessRoute } from '../config/config-schema';
import { OTHER_ROUTE } from './data-point-schema';

/** How a request counts for the business metrics. */
export interface RouteClassification {
  /** The business route's name, or `other`. */
  route: string;
  /** Whether it succeeded by the route's rule; undefined for `other`. */
  routeSuccess?: boolean;
}

/** A business route ready to match: its pathname pattern compiled once. */
export interface CompiledRoute {
  name: string;
  method: string;
  path: PathMatcher;
  success: BusinessRoute['success'];
}

// Keyed by the config object: the config store hands out the same object until the config
// changes, so patterns compile once per config, never per request, and old ones are collected.
const compiledByConfig = new WeakMap<object, readonly CompiledRoute[]>();

/**
 * The config's routes with their patterns compiled, memoized per config object.
 *
 * @example
 * businessRouteMatchers(config) === businessRouteMatchers(config); // true: compiled once
 */
export function businessRouteMatchers(config: {
  readonly routes: readonly BusinessRoute[];
}): readonly CompiledRoute[] {
  let compiled = compiledByConfig.get(config);
  if (!compiled) {
    compiled = config.routes.map((route) => ({
      name: route.name,
      method: route.method,
      path: compilePathPattern(route.pattern),
      success: route.success,
    }));
    compiledByConfig.set(config, compiled);
  }
  return compiled;
}

/**
 * Whether a status counts as success under a route's rule. No response at all (status 0) is
 * always a failure.
 *
 * @example
 * routeSucceeded('2xx-3xx', 302); // true
 */
export function routeSucceeded(rule: BusinessRoute['success'], status: number): boolean {
  return status >= 200 && status < (rule === '2xx' ? 300 : 400);
}

/**
 * Names the business route a request belongs to (the first configured route whose method and
 * pathname match) and judges its success by the status sent to the client.
 *
 * @example
 * classifyRoute(config, 'POST', '/api/invoices', 201); // { route: 'invoice_created', routeSuccess: true }
 * classifyRoute(config, 'GET', '/', 200); // { route: 'other' }
 */
export function classifyRoute(
  config: { readonly routes: readonly BusinessRoute[] },
  method: string,
  pathname: string,
  status: number,
): RouteClassification {
  for (const route of businessRouteMatchers(config)) {
    if (route.method === method && route.path.test(pathname))
      return { route: route.name, routeSuccess: routeSucceeded(route.success, status) };
  }
  return { route: OTHER_ROUTE };
}

/**
 * Paths longer than this are never a business route (`other`): no API path is this long, and
 * the bound keeps matching cheap whatever a visitor sends.
 */
export const MAX_MATCHED_PATH = 2048;

/** One step of a compiled pattern: a literal character, one non-slash character, or any run. */
type PatternStep =
  | { kind: 'char'; code: number }
  | { kind: 'segment-char' } // the first character of `:name`: anything but `/`
  | { kind: 'segment-rest' } // the rest of `:name`: any run without `/`
  | { kind: 'any' }; // `*`: any run, slashes included

/** A compiled pathname pattern. */
export interface PathMatcher {
  /** Whether the whole pathname matches, in time linear in its length. */
  test(pathname: string): boolean;
}

/**
 * Compiles a URLPattern-style pathname: `:name` matches one non-empty path segment (no `/`),
 * `*` matches anything (slashes included), every other character is literal. Matching simulates
 * all ways through the pattern at once (a Thompson NFA), so it costs path length × pattern
 * length at worst and never backtracks: a pattern with several `*` against a path of thousands of
 * slashes costs microseconds, where a backtracking RegExp takes seconds or minutes. URLPattern is missing
 * from Node 20, so the Worker, the unit tests and the CLI share this one implementation.
 *
 * @example
 * compilePathPattern('/api/templates/:id/use').test('/api/templates/42/use'); // true
 * compilePathPattern('/files/*').test('/files/a/b.png'); // true
 */
export function compilePathPattern(pattern: string): PathMatcher {
  const steps: PatternStep[] = [];
  for (const token of pattern.match(/:[A-Za-z_][A-Za-z0-9_]*|\*|[^:*]+|:/g) ?? []) {
    if (token === '*') {
      // `**` matches what `*` does: one step keeps the state set small.
      if (steps.at(-1)?.kind !== 'any') steps.push({ kind: 'any' });
    } else if (token.length > 1 && token.startsWith(':')) {
      steps.push({ kind: 'segment-char' }, { kind: 'segment-rest' });
    } else {
      for (let i = 0; i < token.length; i++) steps.push({ kind: 'char', code: token.charCodeAt(i) });
    }
  }
  return { test: (pathname) => pathname.length <= MAX_MATCHED_PATH && simulate(steps, pathname) };
}

const SLASH = 0x2f;

/**
 * Runs the pattern over the path with the set of steps reachable so far (`active[i]`: the first
 * i steps have matched). A run step (`any`, `segment-rest`) may match nothing, so reaching it also
 * reaches the step after it.
 */
function simulate(steps: readonly PatternStep[], path: string): boolean {
  let active = new Uint8Array(steps.length + 1);
  let next = new Uint8Array(steps.length + 1);
  active[0] = 1;
  closeOverEmptyRuns(steps, active);
  for (let at = 0; at < path.length; at++) {
    const code = path.charCodeAt(at);
    next.fill(0);
    let alive = false;
    for (let i = 0; i < steps.length; i++) {
      if (!active[i]) continue;
      const step = steps[i]!;
      if (step.kind === 'char') {
        if (code === step.code) {
          next[i + 1] = 1;
          alive = true;
        }
      } else if (step.kind === 'any' || code !== SLASH) {
        // A run stays where it is; the first character of a segment moves on to the rest.
        if (step.kind === 'segment-char') next[i + 1] = 1;
        else next[i] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    closeOverEmptyRuns(steps, next);
    [active, next] = [next, active];
  }
  return active[steps.length] === 1;
}

function closeOverEmptyRuns(steps: readonly PatternStep[], states: Uint8Array): void {
  for (let i = 0; i < steps.length; i++) {
    const kind = steps[i]!.kind;
    if (states[i] && (kind === 'any' || kind === 'segment-rest')) states[i + 1] = 1;
  }
}

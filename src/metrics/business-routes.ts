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
  path: RegExp;
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
 * Compiles a URLPattern-style pathname into an anchored RegExp: `:name` matches one non-empty
 * path segment, `*` matches anything (slashes included), every other character is literal.
 * URLPattern itself is missing from Node 20, and this subset is all business routes need, so
 * the Worker, the unit tests and the CLI share one implementation with one behaviour.
 *
 * @example
 * compilePathPattern('/api/templates/:id/use').test('/api/templates/42/use'); // true
 * compilePathPattern('/files/*').test('/files/a/b.png'); // true
 */
export function compilePathPattern(pattern: string): RegExp {
  let source = '';
  for (const token of pattern.match(/:[A-Za-z_][A-Za-z0-9_]*|\*|[^:*]+|:/g) ?? []) {
    if (token === '*') source += '.*';
    else if (token.length > 1 && token.startsWith(':')) source += '[^/]+';
    else source += escapeRegExp(token);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import type { Context } from 'hono';
import { Hono } from 'hono/tiny';
import type { Settings } from '../src/config/settings';
import type { Clock, ConfigStore, ErrorReporter, Logger, MetricsSink } from '../src/ports';
import { parsePublicUrl, withinPrefix } from '../src/proxy/origin-request-headers';
import type { FetchFunction } from '../src/proxy/proxy-to-origin';
import type { Cohort } from '../src/split/decide-visitor';
import { createAdminApp } from './admin/admin-app';
import { createCockpitApp } from './admin/cockpit';
import type { ControlPlane } from './control/control-plane';
import { mountOfrep, ofrepMountPath } from './ofrep';
import { waitUntilOf } from './request-metric';
import { splitHandler } from './split-handler';

/** Everything the Hono app needs, built once per isolate by runtime.ts (tests build their own). */
export interface AppDeps {
  settings: Settings;
  /** The ROLLOUT namespace: the read replica and the hand-set kill switch (read by GET /state). */
  kv: KVNamespace;
  /** The single writer: every admin write, the audit log, the guard's state. */
  control: ControlPlane;
  store: ConfigStore;
  clock: Clock;
  logger: Logger;
  fetch: FetchFunction;
  metrics: MetricsSink;
  /** Creates the per-request error reporter (Sentry is request-scoped). */
  errorReporterFor(request: Request, waitUntil: (promise: Promise<unknown>) => void): ErrorReporter;
  workerVersion: string;
  /**
   * A QA override cohort pinned by a signed cookie, if the request carries a valid one. Without
   * the cookie the answer is synchronous (the splitter then awaits nothing).
   */
  readOverride(request: Request): Cohort | undefined | Promise<Cohort | undefined>;
}

/** The Worker's request handler for one isolate, as {@link createApp} builds it. */
export interface RolloutApp {
  fetch(request: Request, env: unknown, ctx?: ExecutionContext): Response | Promise<Response>;
}

/**
 * The admin API and the cockpit under the configured prefix and OFREP on its mount path (a Hono
 * app), the splitter everywhere else. A visitor's request goes to the splitter directly: building
 * a router context and trying the admin routes first cost every proxied request a few percent of
 * its throughput. A path with `%` goes through the router as it always did, since the router
 * decodes percent-escapes before it matches (an escaped admin path is the admin path).
 */
export function createApp(deps: AppDeps): RolloutApp {
  const prefix = deps.settings.ADMIN_PREFIX;
  const ofrepPath = ofrepMountPath(deps.settings);
  const split = splitHandler(deps);
  const unhandled = (error: unknown, request: Request): Response => {
    deps.logger.error('unhandled error', {
      error: String(error),
      path: parsePublicUrl(request.url).pathname,
    });
    // Internals stay in the logs (and Sentry); the visitor gets a plain answer.
    return Response.json({ error: 'edge-rollout could not serve this request' }, { status: 502 });
  };
  const app = new Hono();
  app.route(prefix, createAdminApp(deps));
  app.route(prefix, createCockpitApp(prefix));
  // The admin prefix is never proxied, so the origin cannot shadow (or be probed through) it.
  app.all(`${prefix}/*`, (c) => c.json({ error: 'not found' }, 404));
  mountOfrep(app, deps);
  app.all('*', (c) => split(c.req.raw, waitUntilOf(executionContextOf(c))));
  app.onError((error, c) => unhandled(error, c.req.raw));
  const routed = (pathname: string) =>
    withinPrefix(pathname, prefix) ||
    (ofrepPath !== undefined && withinPrefix(pathname, ofrepPath)) ||
    pathname.includes('%');
  return {
    fetch(request, env, ctx) {
      const publicUrl = parsePublicUrl(request.url);
      if (routed(publicUrl.pathname)) return app.fetch(request, env, ctx);
      return split(request, waitUntilOf(ctx), publicUrl).catch((error: unknown) => unhandled(error, request));
    },
  };
}

/** The request's execution context, or undefined when the app is called outside a Worker. */
function executionContextOf(c: Context): { waitUntil(promise: Promise<unknown>): void } | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

/**
 * The answer when the Worker's own vars are invalid (a deploy mistake), in place of the app:
 * 503 naming each bad variable, so the fix is obvious from one curl.
 */
export function misconfiguredResponse(issues: string[]): Response {
  return Response.json(
    { error: 'edge-rollout is misconfigured', issues },
    { status: 503, headers: { 'retry-after': '30' } },
  );
}

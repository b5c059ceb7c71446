import { Hono } from 'hono/tiny';
import type { Settings } from '../src/config/settings';
import type { Clock, ConfigStore, ErrorReporter, Logger, MetricsSink } from '../src/ports';
import type { FetchFunction } from '../src/proxy/proxy-to-origin';
import type { Cohort } from '../src/split/decide-visitor';
import { createAdminApp } from './admin/admin-app';
import { createCockpitApp } from './admin/cockpit';
import type { ControlPlane } from './control/control-plane';
import { mountOfrep } from './ofrep';
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
  /** A QA override cohort pinned by a signed cookie, if the request carries a valid one. */
  readOverride(request: Request): Promise<Cohort | undefined>;
}

/**
 * The Hono app: the admin API under the configured prefix, the splitter everywhere else.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const prefix = deps.settings.ADMIN_PREFIX;
  app.route(prefix, createAdminApp(deps));
  app.route(prefix, createCockpitApp(prefix));
  // The admin prefix is never proxied, so the origin cannot shadow (or be probed through) it.
  app.all(`${prefix}/*`, (c) => c.json({ error: 'not found' }, 404));
  mountOfrep(app, deps);
  app.all('*', splitHandler(deps));
  app.onError((error, c) => {
    deps.logger.error('unhandled error', { error: String(error), path: new URL(c.req.url).pathname });
    // Internals stay in the logs (and Sentry); the visitor gets a plain answer.
    return c.json({ error: 'edge-rollout could not serve this request' }, 502);
  });
  return app;
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

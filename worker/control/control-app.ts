import { Hono } from 'hono/tiny';
import { nullErrorReporter } from '../../src/ports';
import { withinPrefix } from '../../src/proxy/origin-request-headers';
import {
  forwardedFrom,
  PLANE_COMMITTED_PATH,
  PLANE_HEAD_PATH,
  PLANE_REPORT_PATH,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  servesProtocol,
  type ForwardedFrom,
} from '../shared/plane-protocol';
import { createAdminApp } from './admin/admin-app';
import { adminAuth, type RequirePermission } from './admin/admin-auth';
import { AdminError, adminErrorHandler, type AdminEnv } from './admin/admin-http';
import { COCKPIT_PAGE_PATHS, createCockpitApp } from './admin/cockpit';
import type { ErrorReporterFor } from '../shared/sentry/error-reporter';
import type { ControlDeps } from './control-deps';
import { errorReportRoute } from './error-report-route';

/** Runs the guard once now (the Cron handler's run), for `POST <prefix>/guard/run`. */
export type RunGuardNow = (env: unknown, ctx: ExecutionContext | undefined) => Promise<void>;

/** What the control app needs: the handlers' deps and the guard run. */
export interface ControlAppDeps extends ControlDeps {
  runGuardNow: RunGuardNow;
  /** Where the cockpit lives (`COCKPIT_ORIGIN`); unset in local runs, where it is derived. */
  cockpitOrigin?: string | undefined;
  /** Sentry (or nothing) for the edge's relayed reports, under the edge's version as release. */
  relayedReporterFor?: (workerVersion: string) => ErrorReporterFor;
}

/** The control Worker's request handler for one isolate. */
export interface ControlApp {
  fetch(request: Request, env: unknown, ctx?: ExecutionContext): Response | Promise<Response>;
}

/**
 * The control Worker: the admin API under the prefix, on both hosts; the cockpit's page only on
 * its own origin (on the app's host `GET <prefix>/` redirects there); and `POST <prefix>/guard/run`,
 * the guard's "run now" (wrangler's local scheduled route reaches only the first Worker of a
 * multi-config `wrangler dev`, so the demo and the tests use this too).
 */
export function createControlApp(deps: ControlAppDeps): ControlApp {
  const prefix = deps.settings.ADMIN_PREFIX;
  const relayedReport = errorReportRoute(
    deps.relayedReporterFor ?? (() => () => nullErrorReporter),
    deps.logger,
  );
  const app = new Hono();
  // One guard per isolate: credentials parsed once, one failure throttle for every route.
  const auth = adminAuth({ settings: deps.settings, clock: deps.clock, logger: deps.logger });
  app.route(prefix, guardRunApp(deps, auth));
  app.route(prefix, createAdminApp(deps, auth));
  app.route(prefix, createCockpitApp(prefix));
  app.all('*', (c) => c.json({ error: 'not found' }, 404, { 'cache-control': 'no-store' }));
  app.onError((error, c) => {
    deps.logger.error('unhandled error', { error: String(error), path: new URL(c.req.url).pathname });
    return c.json({ error: 'the control plane could not serve this request' }, 500);
  });
  return {
    async fetch(request, env, ctx) {
      const from = forwardedFrom(request.headers);
      if (!servesProtocol(from.version))
        return Response.json(
          { error: `protocol ${from.version} is too old for this control plane (${PROTOCOL_VERSION})` },
          { status: 400 },
        );
      const url = new URL(request.url);
      if (url.pathname === PLANE_HEAD_PATH || url.pathname === PLANE_COMMITTED_PATH)
        return planeAnswer(deps, from, url.pathname);
      if (url.pathname === PLANE_REPORT_PATH)
        return relayedReport(request, from, (promise) => {
          try {
            ctx?.waitUntil(promise);
          } catch {
            // Outside a Worker (tests): the send still runs, unawaited.
          }
        });
      if (from.host === 'app' && withinPrefix(url.pathname, prefix)) {
        const page = url.pathname.slice(prefix.length) || '/';
        // The cockpit (and anything that could hold its credential) never runs on the app's origin.
        if (COCKPIT_PAGE_PATHS.includes(page)) {
          if (page !== '/' || (request.method !== 'GET' && request.method !== 'HEAD'))
            return Response.json({ error: 'not found' }, { status: 404 });
          return Response.redirect(`${cockpitOriginFor(url, deps.cockpitOrigin)}${prefix}/`, 302);
        }
      }
      if (from.edgeVersion !== undefined && request.method !== 'GET')
        deps.logger.info('admin request through the edge', {
          path: url.pathname,
          edgeVersion: from.edgeVersion,
        });
      const response = await app.fetch(request, env, ctx);
      const answered = new Response(response.body, response);
      answered.headers.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
      return answered;
    },
  };
}

/**
 * Protocol 3: the head refresh's two messages, for the edge's own requests only (host kind
 * `plane`); anything else gets the same 404 as an unknown path. Answered from the object's
 * memory, never cached by anyone but the edge's location cache.
 */
async function planeAnswer(deps: ControlAppDeps, from: ForwardedFrom, path: string): Promise<Response> {
  const headers = { 'cache-control': 'no-store', [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
  if (from.host !== 'plane') return Response.json({ error: 'not found' }, { status: 404, headers });
  const answer = path === PLANE_HEAD_PATH ? await deps.control.head() : await deps.control.committed();
  if ('ok' in answer) return Response.json({ error: answer.error }, { status: 503, headers });
  return Response.json(answer, { headers });
}

/** The cockpit's origin: `COCKPIT_ORIGIN`, or locally `cockpit.localhost` on the request's port. */
function cockpitOriginFor(url: URL, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${url.protocol}//cockpit.localhost${url.port ? `:${url.port}` : ''}`;
}

/**
 * `POST /guard/run`: one guard run now, for an operator (it may abort the canary, as the Cron
 * run would); answers the verdict it left.
 */
function guardRunApp(deps: ControlAppDeps, auth: RequirePermission): Hono<AdminEnv> {
  const guard = new Hono<AdminEnv>();
  guard.onError(adminErrorHandler(deps.logger));
  guard.post('/guard/run', auth('operate'), async (c) => {
    let ctx: ExecutionContext | undefined;
    try {
      ctx = c.executionCtx as ExecutionContext;
    } catch {
      ctx = undefined;
    }
    await deps.runGuardNow(c.env, ctx);
    const state = await deps.control.state();
    if ('ok' in state) throw new AdminError(state.status, state.error);
    return c.json(
      { ran: true, version: state.version, verdict: state.verdict, incident: state.incident },
      200,
      { 'cache-control': 'no-store' },
    );
  });
  return guard;
}

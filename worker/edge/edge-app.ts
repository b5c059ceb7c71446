import type { Context } from 'hono';
import { Hono } from 'hono/tiny';
import { parsePublicUrl, withinPrefix } from '../../src/proxy/origin-request-headers';
import { prefixSpelling } from '../../src/proxy/path-spellings';
import type { ControlForward } from './control-forward';
import type { EdgeDeps } from './edge-deps';
import { mountOfrep, ofrepMountPath } from './ofrep';
import { waitUntilOf } from './request-metric';
import { splitHandler } from './split-handler';
import { visitorPage } from './visitor-page';

/** What the composer needs: the handlers' deps, the way to the control plane and the cockpit host. */
export interface EdgeAppDeps extends EdgeDeps {
  forwardToControl: ControlForward;
  /**
   * Local runs only: requests whose Host is this name are the cockpit's own origin and go to the
   * control Worker whole (in production the cockpit has its own custom domain, not this Worker).
   */
  cockpitHost?: string | undefined;
}

/** The edge Worker's request handler for one isolate, as {@link createEdgeApp} builds it. */
export interface EdgeApp {
  fetch(request: Request, env: unknown, ctx?: ExecutionContext): Response | Promise<Response>;
}

/**
 * The edge: the admin prefix (every spelling of it) goes to the control Worker, OFREP is answered
 * on its mount path (a Hono app; other spellings of it get 404), and the splitter takes everything
 * else directly: building a
 * router context first cost every proxied request a few percent of its throughput. A path with
 * `%` in the OFREP mount goes through the router, which decodes escapes before it matches.
 */
export function createEdgeApp(deps: EdgeAppDeps): EdgeApp {
  const prefix = deps.settings.ADMIN_PREFIX;
  const ofrepPath = ofrepMountPath(deps.settings);
  const isAdminSpelling = prefixSpelling(prefix);
  const isOfrepSpelling = ofrepPath === undefined ? () => false : prefixSpelling(ofrepPath);
  const cockpitHost = deps.cockpitHost?.toLowerCase();
  const split = splitHandler(deps);
  const me = visitorPage(deps);
  const unhandled = (error: unknown, request: Request): Response => {
    deps.logger.error('unhandled error', {
      error: String(error),
      path: parsePublicUrl(request.url).pathname,
    });
    // Internals stay in the logs (and Sentry); the visitor gets a plain answer.
    return Response.json({ error: 'edge-rollout could not serve this request' }, { status: 502 });
  };
  const app = new Hono();
  mountOfrep(app, deps);
  app.all('*', (c) => split(c.req.raw, waitUntilOf(executionContextOf(c))));
  app.onError((error, c) => unhandled(error, c.req.raw));
  const routed = (pathname: string) =>
    ofrepPath !== undefined && (withinPrefix(pathname, ofrepPath) || pathname.includes('%'));
  return {
    fetch(request, env, ctx) {
      const publicUrl = parsePublicUrl(request.url);
      if (cockpitHost !== undefined && publicUrl.host.replace(/:\d+$/, '').toLowerCase() === cockpitHost)
        return deps.forwardToControl(request, 'cockpit');
      const mine = me(request, publicUrl.pathname, waitUntilOf(ctx));
      if (mine) return mine;
      if (withinPrefix(publicUrl.pathname, prefix) || isAdminSpelling(publicUrl.pathname))
        return deps.forwardToControl(request, 'app');
      // `/OFREP/flags`, `//ofrep/flags`, `/ofrep%2fflags`: an origin could read them as the mount,
      // which is answered here and never proxied; only the exact mount path is OFREP.
      if (isOfrepSpelling(publicUrl.pathname) && !withinPrefix(publicUrl.pathname, ofrepPath!))
        return Response.json(
          { error: 'not found' },
          { status: 404, headers: { 'cache-control': 'no-store' } },
        );
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
 * The answer when the edge's own vars are invalid (a deploy mistake), in place of the app. The
 * public answer names nothing; the issues go to the logs.
 */
export function misconfiguredResponse(): Response {
  return Response.json(
    { error: 'edge-rollout is misconfigured; the operators have been told' },
    { status: 503, headers: { 'retry-after': '30' } },
  );
}

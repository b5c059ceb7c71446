import { parsePublicUrl, withinPrefix } from '../../src/proxy/origin-request-headers';
import { prefixSpelling } from '../../src/proxy/path-spellings';
import type { ControlForward } from './control-forward';
import type { EdgeDeps } from './edge-deps';
import { createOfrepHandler, ofrepMountPath } from './ofrep';
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
 * The edge: the cockpit host and the admin prefix (every spelling of it) go to the control Worker,
 * `/__rollout/me` and OFREP (on its exact mount path; other spellings of it get 404) are answered
 * here, and the splitter takes everything else directly, with no router in between.
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
  const ofrep = ofrepPath === undefined ? undefined : createOfrepHandler(deps);
  return {
    fetch(request, _env, ctx) {
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
      if (ofrep && withinPrefix(publicUrl.pathname, ofrepPath!))
        return ofrep(request, publicUrl.pathname.slice(ofrepPath!.length) || '/');
      return split(request, waitUntilOf(ctx), publicUrl).catch((error: unknown) => unhandled(error, request));
    },
  };
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

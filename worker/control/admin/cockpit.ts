import type { Handler } from 'hono';
import { Hono } from 'hono/tiny';
import { parseGuardSettings } from '../../../src/guard/guard-settings';
import type { ControlDeps } from '../control-deps';
import { AdminError, type AdminEnv } from './admin-http';

/**
 * The cockpit: a status page for ops at `GET <prefix>/`, shipped as Workers static assets
 * (worker/assets/), so it costs the Worker bundle nothing. `run_worker_first` sends every
 * request to the Worker, which serves exactly these files and nothing else from the assets:
 * no asset path can shadow the app's paths, and the OpenAPI document (also an asset) is served
 * only behind admin auth. The HTML holds no secret and no state; its script asks for the token
 * (kept in sessionStorage) unless Cloudflare Access already lets it through.
 */

/** The page's files: path under the prefix → asset path and content type. */
const PAGE_FILES: Readonly<Record<string, { asset: string; type: string }>> = {
  '/': { asset: '/index.html', type: 'text/html; charset=utf-8' },
  '/cockpit.js': { asset: '/cockpit.js', type: 'text/javascript; charset=utf-8' },
  '/cockpit-dom.js': { asset: '/cockpit-dom.js', type: 'text/javascript; charset=utf-8' },
  '/cockpit-act.js': { asset: '/cockpit-act.js', type: 'text/javascript; charset=utf-8' },
  '/cockpit-charts.js': { asset: '/cockpit-charts.js', type: 'text/javascript; charset=utf-8' },
  '/cockpit-incident.js': { asset: '/cockpit-incident.js', type: 'text/javascript; charset=utf-8' },
  '/cockpit.css': { asset: '/cockpit.css', type: 'text/css; charset=utf-8' },
  '/icon.svg': { asset: '/icon.svg', type: 'image/svg+xml' },
};

/** The page's paths under the prefix (served only on the cockpit's own origin). */
export const COCKPIT_PAGE_PATHS: readonly string[] = Object.keys(PAGE_FILES);

/**
 * Only the page's own files, and only calls back to this Worker: no CDN, no fonts, no inline
 * script or style, no framing, no form posts elsewhere.
 */
export const COCKPIT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-security-policy': COCKPIT_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/**
 * The page and its script and style, served without credentials (they hold none), mounted under
 * the admin prefix next to the admin API. `<prefix>` without the slash redirects to the page, so
 * its relative URLs resolve under the prefix.
 */
export function createCockpitApp(prefix: string): Hono<{ Bindings: ControlEnv }> {
  const cockpit = new Hono<{ Bindings: ControlEnv }>();
  cockpit.get('/', async (c) => {
    const path = new URL(c.req.url).pathname;
    if (!path.endsWith('/')) return c.redirect(`${prefix}/`, 308);
    return servePageFile(c.env, '/');
  });
  for (const path of Object.keys(PAGE_FILES))
    if (path !== '/') cockpit.get(path, (c) => servePageFile(c.env, path));
  return cockpit;
}

async function servePageFile(env: ControlEnv, path: string): Promise<Response> {
  const file = PAGE_FILES[path]!;
  const response = await fetchAsset(env, file.asset);
  if (!response)
    return new Response('The cockpit is not deployed with this Worker (no ASSETS binding).', {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    });
  return new Response(response.body, {
    status: 200,
    headers: { ...PAGE_HEADERS, 'content-type': file.type },
  });
}

async function fetchAsset(env: ControlEnv | undefined, asset: string): Promise<Response | undefined> {
  if (!env?.ASSETS) return undefined;
  const response = await env.ASSETS.fetch(new Request(`https://assets.invalid${asset}`));
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  return response;
}

/**
 * `GET /openapi.json`: the document generated from the route table and zod schemas
 * (worker/assets/openapi.json, kept equal to the generator's output by a test), with this
 * deployment's prefix as its server. Read from the assets, not carried in the script; kept once
 * per isolate after the first read.
 */
export function openApiHandler(prefix: string): Handler<AdminEnv> {
  let body: string | undefined;
  return async function serveOpenApi(c) {
    if (body === undefined) {
      const response = await fetchAsset(c.env as ControlEnv | undefined, '/openapi.json');
      if (!response) throw new AdminError(503, 'the OpenAPI document is not deployed with this Worker');
      const document = (await response.json()) as Record<string, unknown>;
      body = JSON.stringify({ ...document, servers: [{ url: prefix }] });
    }
    return c.body(body, 200, { 'content-type': 'application/json' });
  };
}

/**
 * `GET /session`: what the cockpit shows besides the state: who is signed in (the audit actor),
 * where this browser's own cohort and flags are (`mePath`, a page of the app's host: only the edge
 * sees the app's visitor cookie, and the edge's `decideVisitor` is the one place that reads it),
 * and whether the guard can read the SQL API (and what to set when it cannot).
 */
export function sessionHandler(deps: Pick<ControlDeps, 'control' | 'settings'>): Handler<AdminEnv> {
  return async function readSession(c) {
    const state = await deps.control.state();
    if ('ok' in state) throw new AdminError(state.status, state.error);
    const guard = parseGuardSettings((c.env ?? {}) as Record<string, unknown>);
    return c.json({
      actor: c.get('actor'),
      version: state.version,
      mePath: `${deps.settings.ADMIN_PREFIX}/me`,
      visitorCookie: state.config.stickiness.cookieName,
      guard: guard.enabled
        ? { configured: true }
        : {
            configured: false,
            reason: guard.reason,
            how: 'set the secrets CF_ACCOUNT_ID and CF_API_TOKEN (Account Analytics: Read), e.g. `npx wrangler secret put CF_API_TOKEN`; see docs/GUARD.md',
          },
    });
  };
}

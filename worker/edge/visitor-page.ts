import { OverrideQuerySchema } from '../../src/admin/admin-schemas';
import { overrideCookie, overrideTokens, type VerifiedOverride } from '../../src/admin/override-token';
import { OVERRIDE_METHOD, OVERRIDE_ROUTE } from '../../src/metrics/data-point-schema';
import { decideVisitor } from '../../src/split/decide-visitor';
import type { FlagValue } from '../../src/split/evaluate-flags';
import type { EdgeDeps, WaitUntil } from './edge-deps';
import { recordMetric } from './request-metric';

/** What the browser's own pages need: the splitter's config and override reader, and the metrics sink. */
export type VisitorPageDeps = Pick<
  EdgeDeps,
  'settings' | 'store' | 'readOverride' | 'clock' | 'metrics' | 'logger' | 'workerVersion'
>;

/**
 * The browser's own pages on the app's host, the only admin-prefix paths the edge answers itself
 * (everything else under the prefix goes to the control Worker). They need the app host's cookies,
 * which the cockpit's own origin never sees, and no credential:
 * - `GET <prefix>/me` (and `/me.json`): this browser's own cohort, flags and QA override (its
 *   flag pins and how long they last), as the splitter decides them for its next request; it shows
 *   nothing but what this browser's own cookies already decide.
 * - `GET <prefix>/override?token=…`: opens a signed QA override link (the signature is the
 *   credential): sets the `rollout_override` cookie for the token's remaining lifetime and
 *   redirects to `/`. Each use is one data point (method `OVERRIDE`, route `override`) in the
 *   edge's own metrics sink; the control plane is never called. A tampered or expired token: 403.
 * - `GET <prefix>/override/clear`: the way out of an override: removes the cookie and redirects
 *   to `<prefix>/me`. The page links it.
 *
 * The identity comes from {@link decideVisitor}, the splitter's one function for it, so the page
 * can never disagree with the routing. A browser without a valid cookie is told so; the page does
 * not issue one (the first visit to the app does). `<prefix>/me.json` (or `Accept:
 * application/json`) answers the same as JSON. The HTML has no script and no style: its CSP
 * forbids both, so even a hostile cookie value shown on it can run nothing.
 *
 * @example
 * const me = visitorPage(deps);
 * const answer = me(request, publicUrl.pathname); // undefined: not this page
 */
export function visitorPage(
  deps: VisitorPageDeps,
): (request: Request, pathname: string, waitUntil?: WaitUntil) => Promise<Response> | undefined {
  const htmlPath = `${deps.settings.ADMIN_PREFIX}/me`;
  const jsonPath = `${htmlPath}.json`;
  const openPath = `${deps.settings.ADMIN_PREFIX}/override`;
  const clearPath = `${openPath}/clear`;
  const tokens = deps.settings.OVERRIDE_SECRET ? overrideTokens(deps.settings.OVERRIDE_SECRET) : undefined;
  return function answerVisitorPage(request, pathname, waitUntil = () => {}) {
    if (pathname === openPath) return openOverride(deps, tokens, request, waitUntil);
    if (pathname === clearPath) return Promise.resolve(clearOverride(request, htmlPath));
    if (pathname !== htmlPath && pathname !== jsonPath) return undefined;
    return (async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return new Response(null, { status: 405, headers: { allow: 'GET, HEAD', ...PAGE_HEADERS } });
      const me = await describeVisitor(deps, request);
      const json = pathname === jsonPath || prefersJson(request.headers.get('accept'));
      const body = json ? JSON.stringify(me) : renderPage(me, clearPath);
      return new Response(request.method === 'HEAD' ? null : body, {
        headers: {
          ...PAGE_HEADERS,
          'content-type': json ? 'application/json' : 'text/html; charset=utf-8',
          vary: 'accept, cookie',
        },
      });
    })();
  };
}

const GET_ONLY = { allow: 'GET, HEAD' };

/** Opens an override link on the edge: verify, set the cookie, count the use. */
async function openOverride(
  deps: VisitorPageDeps,
  tokens: ReturnType<typeof overrideTokens> | undefined,
  request: Request,
  waitUntil: WaitUntil,
): Promise<Response> {
  const started = deps.clock.now();
  const answer = (status: number, error: string) =>
    Response.json({ error }, { status, headers: { 'cache-control': 'no-store' } });
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return new Response(null, { status: 405, headers: { ...GET_ONLY, 'cache-control': 'no-store' } });
  if (!tokens) return answer(503, 'override links disabled: set OVERRIDE_SECRET');
  const query = OverrideQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return answer(400, 'invalid override link');
  const override = await tokens.verify(query.data.token, started);
  if (!override) return answer(403, 'invalid or expired override link');
  const maxAge = Math.max(1, override.expiresAt - Math.floor(started / 1000));
  const snapshot = deps.store.current?.() ?? (await deps.store.read());
  recordMetric(deps, request, waitUntil, {
    started,
    served: undefined,
    assignedCohort: override.cohort,
    snapshot,
    status: 302,
    outcome: 'ok',
    method: OVERRIDE_METHOD,
    pathname: OVERRIDE_ROUTE,
    route: OVERRIDE_ROUTE,
  });
  return new Response(null, {
    status: 302,
    headers: {
      location: '/',
      'cache-control': 'no-store',
      'set-cookie': overrideCookie(query.data.token, maxAge),
    },
  });
}

/** The way out: the cookie removed (whether or not there was one), then this browser's page. */
function clearOverride(request: Request, mePath: string): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return new Response(null, { status: 405, headers: { ...GET_ONLY, 'cache-control': 'no-store' } });
  return new Response(null, {
    status: 302,
    headers: { location: mePath, 'cache-control': 'no-store', 'set-cookie': overrideCookie('', 0) },
  });
}

/** No script, style, image, frame or form: a page of text. */
export const VISITOR_PAGE_CSP =
  "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE_HEADERS = {
  'content-security-policy': VISITOR_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'private, no-store',
};

/** What the page shows: one browser's routing, never anything of another visitor. */
export interface VisitorView {
  /** `cookie <name>` or `header <name>`: what the cohort is hashed from. */
  source: string;
  /** Null when the browser has no valid visitor cookie and no identity header decides. */
  routing: {
    cohort: 'stable' | 'canary';
    reason: string;
    bucket: number;
    flags: Record<string, FlagValue>;
  } | null;
  /** The QA override this browser's signed cookie carries: the cohort, the flag pins, until when. */
  override: {
    cohort: 'stable' | 'canary';
    /** Flag → variant pinned by the link (empty for a cohort-only link). */
    pins: Record<string, string>;
    /** When the override ends (ISO time), and the seconds left. */
    expiresAt: string;
    expiresInSeconds: number;
  } | null;
  /** Set while bypass mode is on: this browser (like every other) goes to stable, without flags. */
  bypass?: true;
  configVersion: number;
}

async function describeVisitor(
  deps: Pick<EdgeDeps, 'store' | 'readOverride' | 'clock'>,
  request: Request,
): Promise<VisitorView> {
  const snapshot = deps.store.current?.() ?? (await deps.store.read());
  const override = (await deps.readOverride(request)) ?? undefined;
  // The visitor's own request facts (location, method); path rules describe app pages, not this one.
  const decision = decideVisitor(request.headers, snapshot, override, {
    method: 'GET',
    cf: request.cf,
  });
  const { cookieName, identityHeader } = snapshot.config.stickiness;
  const byHeader = identityHeader !== undefined && request.headers.get(identityHeader) === decision.routingId;
  // Without a cookie decideVisitor drew a fresh random id: its cohort would describe no one.
  const identified = byHeader || decision.setCookie === undefined;
  return {
    source: byHeader ? `header ${identityHeader}` : `cookie ${cookieName}`,
    routing: identified
      ? {
          cohort: decision.assignment.cohort,
          reason: decision.assignment.reason,
          bucket: decision.assignment.bucket,
          flags: decision.flagValues,
        }
      : null,
    override: override ? overrideView(override, deps.clock.now()) : null,
    configVersion: snapshot.config.version,
    ...(snapshot.kill.bypass ? { bypass: true as const } : {}),
  };
}

function overrideView(override: VerifiedOverride, nowMs: number): NonNullable<VisitorView['override']> {
  return {
    cohort: override.cohort,
    pins: { ...override.pins },
    expiresAt: new Date(override.expiresAt * 1000).toISOString(),
    expiresInSeconds: Math.max(0, override.expiresAt - Math.floor(nowMs / 1000)),
  };
}

function prefersJson(accept: string | null): boolean {
  return accept !== null && /\bapplication\/json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
}

function renderOverride(override: NonNullable<VisitorView['override']>, clearPath: string): string {
  const pins = Object.entries(override.pins);
  const pinList = pins.length
    ? `<p>It pins these flags:</p><ul id="pins">${pins
        .map(([flag, variant]) => `<li>${escapeHtml(flag)}: <strong>${escapeHtml(variant)}</strong></li>`)
        .join('')}</ul>`
    : '';
  return `<p id="override">A QA override link pins this browser to <strong>${override.cohort}</strong> until ${override.expiresAt} (${formatDuration(override.expiresInSeconds)} left).</p>
${pinList}<p><a id="clear-override" href="${escapeHtml(clearPath)}">Leave the override</a> (removes its cookie from this browser).</p>`;
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function renderPage(me: VisitorView, clearPath: string): string {
  const routing = me.routing
    ? `<p>This browser (${escapeHtml(me.source)}) is in <strong id="cohort">${me.routing.cohort}</strong> (bucket ${me.routing.bucket}, ${escapeHtml(me.routing.reason)}) under config v${me.configVersion}.</p>`
    : `<p id="no-id">This browser has no visitor ${escapeHtml(me.source)} yet: open the app once to get one.</p>`;
  const flags = me.routing
    ? `<h2>Flags</h2><ul>${
        Object.entries(me.routing.flags)
          .map(
            ([name, value]) =>
              `<li>${escapeHtml(name)}: <strong>${escapeHtml(typeof value === 'boolean' ? (value ? 'on' : 'off') : JSON.stringify(value))}</strong></li>`,
          )
          .join('') || '<li>none</li>'
      }</ul>`
    : '';
  const override = me.override
    ? renderOverride(me.override, clearPath)
    : '<p>No QA override is set in this browser.</p>';
  const bypass = me.bypass
    ? '<p id="bypass"><strong>Bypass mode is on</strong>: every visitor, this browser too, goes to stable with no flags.</p>'
    : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>This browser’s rollout</title></head>
<body>
<main>
<h1>This browser’s rollout</h1>
${bypass}
${routing}
${override}
${flags}
<p>This page shows only what this browser’s own cookie decides. Operators use the cockpit, on its own origin.</p>
</main>
</body>
</html>
`;
}

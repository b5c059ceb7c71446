import { decideVisitor } from '../../src/split/decide-visitor';
import type { FlagValue } from '../../src/split/evaluate-flags';
import type { EdgeDeps } from './edge-deps';

/**
 * `GET <prefix>/me` on the app's host: this browser's own cohort, flags and QA override, as the
 * splitter decides them for its next request. It is the only admin-prefix page the edge answers
 * itself (everything else under the prefix goes to the control Worker): it needs the app host's
 * visitor cookie, which the cockpit's own origin never sees, and it needs no credential, because
 * it shows nothing but what this browser's own cookie already decides.
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
  deps: Pick<EdgeDeps, 'settings' | 'store' | 'readOverride'>,
): (request: Request, pathname: string) => Promise<Response> | undefined {
  const htmlPath = `${deps.settings.ADMIN_PREFIX}/me`;
  const jsonPath = `${htmlPath}.json`;
  return function answerVisitorPage(request, pathname) {
    if (pathname !== htmlPath && pathname !== jsonPath) return undefined;
    return (async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return new Response(null, { status: 405, headers: { allow: 'GET, HEAD', ...PAGE_HEADERS } });
      const me = await describeVisitor(deps, request);
      const json = pathname === jsonPath || prefersJson(request.headers.get('accept'));
      const body = json ? JSON.stringify(me) : renderPage(me);
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
  /** The cohort a QA override link pinned, if this browser carries one. */
  override: 'stable' | 'canary' | null;
  configVersion: number;
}

async function describeVisitor(
  deps: Pick<EdgeDeps, 'store' | 'readOverride'>,
  request: Request,
): Promise<VisitorView> {
  const snapshot = deps.store.current?.() ?? (await deps.store.read());
  const override = (await deps.readOverride(request)) ?? null;
  // The visitor's own request facts (location, method); path rules describe app pages, not this one.
  const decision = decideVisitor(request.headers, snapshot, override ?? undefined, {
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
    override,
    configVersion: snapshot.config.version,
  };
}

function prefersJson(accept: string | null): boolean {
  return accept !== null && /\bapplication\/json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function renderPage(me: VisitorView): string {
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
    ? `<p>A QA override link pins this browser to <strong>${me.override}</strong>.</p>`
    : '<p>No QA override is set in this browser.</p>';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>This browser’s rollout</title></head>
<body>
<main>
<h1>This browser’s rollout</h1>
${routing}
${override}
${flags}
<p>This page shows only what this browser’s own cookie decides. Operators use the cockpit, on its own origin.</p>
</main>
</body>
</html>
`;
}

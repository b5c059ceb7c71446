import type { Cohort } from '../split/decide-visitor';

/**
 * What crosses the Worker in each direction. Toward the origin: the client's headers minus
 * hop-by-hop, spoofable and rollout headers, plus the cohort, the flags and X-Forwarded-*.
 * Toward the client: the origin's headers minus hop-by-hop, shared caching made private,
 * origin redirects made public, plus the cohort.
 */

/** Tells the origin and the client which deployment served the request. */
export const COHORT_HEADER = 'x-rollout-cohort';
/** Carries the visitor's flag values to the origin as a JSON object. */
export const FLAGS_HEADER = 'x-feature-flags';

/**
 * Every header with this prefix belongs to edge-rollout. Such headers from a client are dropped,
 * never forwarded: only the Worker may tell the origin a cohort or a flag.
 */
export const ROLLOUT_PREFIX = 'x-rollout-';

const HOP_BY_HOP: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): the fixed list plus any named in `Connection`.
 * They describe one connection and must not be forwarded. Without a `Connection` header (the
 * usual case on the per-request path) the shared fixed list is returned, allocating nothing.
 *
 * @example
 * hopByHopHeaders(new Headers({ connection: 'x-debug' })).includes('x-debug'); // true
 */
function hopByHopHeaders(headers: Headers): readonly string[] {
  const connection = headers.get('connection');
  if (!connection) return HOP_BY_HOP;
  const names = [...HOP_BY_HOP];
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

/** What the Worker tells the origin about a request. */
export interface OriginRequestContext {
  cohort: Cohort;
  flags: Readonly<Record<string, boolean>>;
  /** The URL the visitor asked for (the Worker's public URL). */
  publicUrl: URL;
  /** The verified visitor IP (`CF-Connecting-IP`), if any. */
  visitorIp: string | null;
  /** Keep `Upgrade`/`Connection` so that a WebSocket handshake reaches the origin. */
  webSocket: boolean;
}

// A client-supplied X-Forwarded-For cannot be verified; only CF-Connecting-IP can.
const UNVERIFIABLE = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'host'];

/**
 * Builds the headers sent to the origin: client headers minus hop-by-hop, client-sent rollout
 * headers and unverifiable forwarding headers; plus the cohort, the flags and X-Forwarded-*.
 * The list is copied natively and then trimmed: on the per-request path that is much cheaper
 * than appending header by header from script.
 */
export function buildOriginRequestHeaders(inbound: Headers, context: OriginRequestContext): Headers {
  const headers = new Headers(inbound);
  if (!context.webSocket) for (const name of hopByHopHeaders(inbound)) headers.delete(name);
  for (const name of UNVERIFIABLE) headers.delete(name);
  // Iterated names are already lower-case, so the prefix test needs no case folding.
  for (const name of inbound.keys())
    if (name.startsWith(ROLLOUT_PREFIX) || name === FLAGS_HEADER) headers.delete(name);
  headers.set(COHORT_HEADER, context.cohort);
  headers.set(FLAGS_HEADER, JSON.stringify(context.flags));
  headers.set('x-forwarded-host', context.publicUrl.host);
  headers.set('x-forwarded-proto', context.publicUrl.protocol === 'https:' ? 'https' : 'http');
  if (context.visitorIp) headers.set('x-forwarded-for', context.visitorIp);
  return headers;
}

/**
 * Keeps a shared cache in front of the Worker from serving one cohort's response to the other.
 * `public` and `s-maxage` are replaced by `private`, which keeps `max-age`: a browser belongs to
 * one sticky cohort, so its private cache stays correct, while CDNs and proxies store nothing.
 * Responses without `Cache-Control` are left alone (shared caches do not store them by default
 * for HTML; hashed assets are normally distinct per deployment).
 *
 * @example
 * privateCacheControl('public, max-age=600, s-maxage=3600'); // 'private, max-age=600'
 */
export function privateCacheControl(value: string | null): string | null {
  if (value === null) return null;
  const directives = value
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const shared = directives.some((d) => /^(public|s-maxage\b)/i.test(d));
  if (!shared) return value;
  const kept = directives.filter((d) => !/^(public|s-maxage\b|private)/i.test(d));
  return ['private', ...kept].join(', ');
}

// Origins are a handful of strings per config; parsing them once keeps URL parsing off the
// per-request path. Bounded so that a stream of configs cannot grow it without limit.
const parsedOrigins = new Map<string, { origin: string; prefix: string; url: URL }>();

/**
 * The parsed form of an origin base URL, memoized. Both directions need it: the proxy to build
 * the target URL, the client headers to recognise a redirect to the origin.
 *
 * @example
 * parseOrigin('http://127.0.0.1:8702/v2').prefix; // '/v2'
 */
export function parseOrigin(originBase: string): { origin: string; prefix: string; url: URL } {
  let parsed = parsedOrigins.get(originBase);
  if (!parsed) {
    const url = new URL(originBase);
    parsed = { origin: url.origin, prefix: url.pathname.replace(/\/$/, ''), url };
    if (parsedOrigins.size >= 64) parsedOrigins.clear();
    parsedOrigins.set(originBase, parsed);
  }
  return parsed;
}

/** What the Worker adds to an origin response. */
export interface ClientResponseContext {
  cohort: Cohort;
  /** A `Set-Cookie` to append (a fresh visitor id), if any. */
  setCookie?: string;
  /**
   * Both cohorts' origin base URLs and the Worker's public origin, to rewrite absolute redirects
   * that point at an origin (which a visitor must never be sent to directly).
   */
  originBases: readonly string[];
  publicOrigin: string;
}

/**
 * Builds the headers returned to the client: origin headers (every `Set-Cookie` kept, since the
 * list is copied natively) minus hop-by-hop headers, shared caching downgraded, redirects to the
 * origin's own host rewritten to the public host, plus `x-rollout-cohort`.
 */
export function buildClientResponseHeaders(upstream: Headers, context: ClientResponseContext): Headers {
  const headers = new Headers(upstream);
  for (const name of hopByHopHeaders(upstream)) headers.delete(name);
  headers.delete(FLAGS_HEADER);
  if (context.setCookie) headers.append('set-cookie', context.setCookie);
  const cacheControl = privateCacheControl(upstream.get('cache-control'));
  if (cacheControl !== null) headers.set('cache-control', cacheControl);
  const location = upstream.get('location');
  if (location) headers.set('location', publicLocation(location, context.originBases, context.publicOrigin));
  headers.set(COHORT_HEADER, context.cohort);
  return headers;
}

function publicLocation(location: string, originBases: readonly string[], publicOrigin: string): string {
  for (const base of originBases) {
    // The origin's own path prefix is part of how the Worker reaches it, not of the public URL.
    const { origin, prefix } = parseOrigin(base);
    const root = origin + prefix;
    if (location === root) return `${publicOrigin}/`;
    if (location.startsWith(root) && /^[/?#]/.test(location.slice(root.length)))
      return publicOrigin + location.slice(root.length);
  }
  return location;
}

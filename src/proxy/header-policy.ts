import type { Cohort } from '../split/decide-visitor';

/**
 * What crosses the Worker in each direction. Toward the origin: the client's headers minus
 * hop-by-hop headers and every spelling of a header the Worker owns or sets, plus the cohort, the
 * flags and X-Forwarded-*. Toward the client: the origin's headers minus hop-by-hop, kept out of
 * shared caches (unless the path is shared by both cohorts), origin redirects made public, plus
 * the cohort.
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
 * They describe one connection and must not be forwarded. Without a `Connection` header, or with
 * one that names a single fixed entry (the usual case on the per-request path), the shared fixed
 * list is returned, allocating nothing.
 *
 * @example
 * hopByHopHeaders(new Headers({ connection: 'x-debug' })).includes('x-debug'); // true
 */
function hopByHopHeaders(headers: Headers): readonly string[] {
  const connection = headers.get('connection');
  // `Connection: keep-alive` (what most clients and origins send) names nothing new.
  if (!connection || isFixedHopByHop(connection.toLowerCase())) return HOP_BY_HOP;
  const names = [...HOP_BY_HOP];
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

/** Whether a header name is on the fixed hop-by-hop list (a switch: no lookup structure per call). */
function isFixedHopByHop(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-authenticate':
    case 'proxy-authorization':
    case 'proxy-connection':
    case 'te':
    case 'trailer':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
  }
  return false;
}

/**
 * The parts of the visitor's URL the proxy uses. A `URL` has them all; {@link parsePublicUrl}
 * takes them from the request's URL string without building one.
 */
export interface PublicUrl {
  readonly origin: string;
  readonly protocol: string;
  readonly host: string;
  readonly pathname: string;
  readonly search: string;
}

/**
 * The parts of a request URL, by string operations. A request's URL arrives serialized by the
 * runtime's URL parser (scheme and host lower-case, default port dropped, path normalized and
 * percent-encoded), so slicing it gives what `new URL` would; anything unexpected (credentials,
 * another scheme) goes through `new URL`.
 *
 * @example
 * parsePublicUrl('https://app.example/a/b?c=1').pathname; // '/a/b'
 */
export function parsePublicUrl(url: string): PublicUrl {
  const schemeEnd = url.indexOf('://');
  const pathStart = schemeEnd < 0 ? -1 : url.indexOf('/', schemeEnd + 3);
  const scheme = url.slice(0, schemeEnd);
  if (
    pathStart < 0 ||
    (scheme !== 'https' && scheme !== 'http') ||
    url.lastIndexOf('@', pathStart) > schemeEnd
  )
    return new URL(url);
  let end = url.indexOf('#', pathStart);
  if (end < 0) end = url.length;
  const queryStart = url.indexOf('?', pathStart);
  const pathEnd = queryStart < 0 || queryStart > end ? end : queryStart;
  return {
    origin: url.slice(0, pathStart),
    protocol: `${scheme}:`,
    host: url.slice(schemeEnd + 3, pathStart),
    pathname: url.slice(pathStart, pathEnd),
    // As `URL.search`: a bare `?` is no query.
    search: pathEnd + 1 >= end ? '' : url.slice(pathEnd, end),
  };
}

/** What the Worker tells the origin about a request. */
export interface OriginRequestContext {
  cohort: Cohort;
  flags: Readonly<Record<string, boolean>>;
  /** The URL the visitor asked for (the Worker's public URL). */
  publicUrl: PublicUrl;
  /** The verified visitor IP (`CF-Connecting-IP`), if any. */
  visitorIp: string | null;
  /** Keep `Upgrade`/`Connection` so that a WebSocket handshake reaches the origin. */
  webSocket: boolean;
  /** The configured identity header: trusted as it arrives, so its other spellings are not. */
  identityHeader?: string;
}

/**
 * Whether a client header name is, or could be read by the origin as, a header the Worker owns
 * or sets: `x-rollout-*`, `x-feature-flags`, `x-forwarded-*`, `forwarded`, `x-real-ip`,
 * `true-client-ip`. CGI-style servers (WSGI, Rack, PHP) read `_` as `-` (`HTTP_X_FEATURE_FLAGS`),
 * so a client's `x_feature_flags` would merge with ours; the same holds for `cf_connecting_ip`
 * and the identity header, whose exact spelling only the platform or the app's auth can set.
 * Client-sent forwarding headers cannot be verified (only `CF-Connecting-IP` can).
 * Names arrive lower-case from the Headers iterator.
 *
 * @example
 * claimedByEdge('x_forwarded_for', undefined); // true
 * claimedByEdge('x-user-id', 'x-user-id'); // false: the identity header itself is trusted
 */
export function claimedByEdge(name: string, identityHeader: string | undefined): boolean {
  const read = name.includes('_') ? name.replaceAll('_', '-') : name;
  if (read.startsWith(ROLLOUT_PREFIX) || read.startsWith('x-forwarded-')) return true;
  switch (read) {
    case FLAGS_HEADER:
    case 'forwarded':
    case 'x-real-ip':
    case 'true-client-ip':
      return true;
  }
  return read !== name && (read === 'cf-connecting-ip' || read === identityHeader);
}

// `Host` comes from the target URL; `Expect: 100-continue` is answered by the runtime itself, and
// forwarding it makes the origin send an interim 100 that no client response can be built from.
const NEVER_FORWARDED = ['host', 'expect'];

/**
 * Builds the headers sent to the origin: client headers minus hop-by-hop headers, `Host`,
 * `Expect` and every header {@link claimedByEdge}; plus the cohort, the flags and X-Forwarded-*.
 * The list is copied natively and then trimmed in one pass over the names the client sent: on the
 * per-request path that is much cheaper than appending header by header from script.
 */
export function buildOriginRequestHeaders(inbound: Headers, context: OriginRequestContext): Headers {
  const headers = new Headers(inbound);
  const connectionListed = inbound.has('connection') ? hopByHopHeaders(inbound) : undefined;
  for (const name of inbound.keys()) {
    const hopByHop =
      !context.webSocket && (isFixedHopByHop(name) || connectionListed?.includes(name) === true);
    if (hopByHop || NEVER_FORWARDED.includes(name) || claimedByEdge(name, context.identityHeader))
      headers.delete(name);
  }
  headers.set(COHORT_HEADER, context.cohort);
  headers.set(FLAGS_HEADER, JSON.stringify(context.flags));
  headers.set('x-forwarded-host', context.publicUrl.host);
  headers.set('x-forwarded-proto', context.publicUrl.protocol === 'https:' ? 'https' : 'http');
  if (context.visitorIp) headers.set('x-forwarded-for', context.visitorIp);
  return headers;
}

/**
 * A `Cache-Control` that no shared cache may store, for a browser that keeps its own copy: a
 * browser belongs to one sticky cohort, so its private cache stays correct, while CDNs and
 * proxies store nothing. `public` and `s-maxage` give way to `private`, `max-age` is kept; a
 * value that already says bare `private` or `no-store` (and nothing shared) is left as it is.
 * No header at all becomes `private`: CDNs cache some responses without one (by extension).
 *
 * @example
 * privateCacheControl('public, max-age=600, s-maxage=3600'); // 'private, max-age=600'
 * privateCacheControl('max-age=60'); // 'private, max-age=60'
 */
export function privateCacheControl(value: string | null): string {
  if (value === null) return 'private';
  const directives = value
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  // `private="set-cookie"` only hides the named fields: it does not keep the response out.
  const kept = directives.filter((d) => !/^(public|s-maxage\b|private\b)/i.test(d));
  const alreadyPrivate =
    kept.length === directives.length - (directives.some((d) => /^private$/i.test(d)) ? 1 : 0) &&
    directives.some((d) => /^(private|no-store)$/i.test(d));
  return alreadyPrivate ? value : ['private', ...kept].join(', ');
}

/** Cache headers that CDNs obey instead of `Cache-Control` (RFC 9213, Cloudflare, Fastly/Akamai). */
const CDN_CACHE_HEADERS = ['cdn-cache-control', 'cloudflare-cdn-cache-control', 'surrogate-control'];

/**
 * Makes a response private to the browser: CDN-only cache headers removed, `Expires` (which
 * HTTP/1.0 caches obey) turned into the `max-age` it meant, `Cache-Control` made private.
 */
function keepOutOfSharedCaches(headers: Headers, cdnCacheHeaders = true): void {
  if (cdnCacheHeaders) for (const name of CDN_CACHE_HEADERS) headers.delete(name);
  const original = headers.get('cache-control');
  let cacheControl = original;
  const expires = headers.get('expires');
  if (expires !== null) {
    headers.delete('expires');
    if (!/(^|,)\s*max-age\s*=/i.test(cacheControl ?? ''))
      cacheControl = [cacheControl, `max-age=${expiresMaxAge(expires, headers.get('date'))}`]
        .filter(Boolean)
        .join(', ');
  }
  const privateValue = privateCacheControl(cacheControl);
  if (privateValue !== original) headers.set('cache-control', privateValue);
}

/** The freshness `Expires` gave (from the response's `Date`); an invalid one means expired (RFC 9111 §5.3). */
function expiresMaxAge(expires: string, date: string | null): number {
  const expiresAt = Date.parse(expires);
  const now = date === null ? Date.now() : Date.parse(date);
  if (Number.isNaN(expiresAt) || Number.isNaN(now)) return 0;
  return Math.max(0, Math.floor((expiresAt - now) / 1000));
}

/**
 * Whether a path was opted in as shared by both cohorts (e.g. content-hashed assets), so that a
 * response to it may be stored by shared caches as the origin says. A prefix ending in `/` covers
 * what is under it; any other covers itself and what is under it (`/assets` never covers
 * `/assets-private`).
 *
 * @example
 * isSharedCachePath('/assets/app.3f9a.js', ['/assets/']); // true
 */
export function isSharedCachePath(pathname: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) {
    if (
      prefix.endsWith('/')
        ? pathname.startsWith(prefix)
        : pathname === prefix || pathname.startsWith(`${prefix}/`)
    )
      return true;
  }
  return false;
}

// Origins are a handful of strings per config; parsing them once keeps URL parsing off the
// per-request path. Bounded so that a stream of configs cannot grow it without limit.
const parsedOrigins = new Map<string, ParsedOrigin>();

/** An origin base URL, parsed: its origin, host and path prefix (no trailing slash). */
export interface ParsedOrigin {
  origin: string;
  host: string;
  prefix: string;
  url: URL;
}

/**
 * The parsed form of an origin base URL, memoized. Both directions need it: the proxy to build
 * the target URL, the client headers to recognise a redirect to the origin.
 *
 * @example
 * parseOrigin('http://127.0.0.1:8702/v2').prefix; // '/v2'
 */
export function parseOrigin(originBase: string): ParsedOrigin {
  let parsed = parsedOrigins.get(originBase);
  if (!parsed) {
    const url = new URL(originBase);
    parsed = { origin: url.origin, host: url.host, prefix: url.pathname.replace(/\/$/, ''), url };
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
   * Both cohorts' origin base URLs: a redirect to either (whatever its spelling) is made public,
   * since a visitor must never be sent to an origin directly.
   */
  originBases: readonly string[];
  /** The origin base URL that answered: a relative `Location` is resolved against it. */
  servedOrigin: string;
  /** The URL the visitor asked for (the Worker's public URL). */
  publicUrl: PublicUrl;
  /** The path was opted in as identical for both cohorts (see {@link isSharedCachePath}). */
  sharedPath?: boolean;
  /** The flags bootstrap will be injected into the body: it differs per visitor. */
  injectsFlags?: boolean;
}

/**
 * Builds the headers returned to the client: origin headers (every `Set-Cookie` kept, since the
 * list is copied natively) minus hop-by-hop headers, redirects to an origin rewritten to the
 * public host, plus `x-rollout-cohort`. Shared caches may store nothing that carries a cookie,
 * injected flags, or may differ by cohort: only a shared path without either keeps the origin's
 * caching headers.
 */
export function buildClientResponseHeaders(upstream: Headers, context: ClientResponseContext): Headers {
  const headers = new Headers(upstream);
  applyClientResponsePolicy(headers, upstream, context);
  return headers;
}

/**
 * {@link buildClientResponseHeaders} in place, on a mutable copy (`headers`, such as those of
 * `new Response(upstream.body, upstream)`) of the origin's headers (`upstream`): the per-request
 * path copies the list once, and one pass over the origin's names deletes only what is there.
 */
export function applyClientResponsePolicy(
  headers: Headers,
  upstream: Headers,
  context: ClientResponseContext,
): void {
  const connectionListed = upstream.has('connection') ? hopByHopHeaders(upstream) : undefined;
  let keepsSetCookie = false;
  let cdnCacheHeaders = false;
  for (const name of upstream.keys()) {
    if (isFixedHopByHop(name) || connectionListed?.includes(name) === true || name === FLAGS_HEADER)
      headers.delete(name);
    else if (name === 'set-cookie') keepsSetCookie = true;
    else if (CDN_CACHE_HEADERS.includes(name)) cdnCacheHeaders = true;
  }
  if (context.setCookie) headers.append('set-cookie', context.setCookie);
  const setsCookie = keepsSetCookie || Boolean(context.setCookie);
  const shared = context.sharedPath === true && !context.injectsFlags && !setsCookie;
  if (!shared) keepOutOfSharedCaches(headers, cdnCacheHeaders);
  const location = headers.get('location');
  if (location) headers.set('location', publicLocation(location, context));
  headers.set(COHORT_HEADER, context.cohort);
}

/**
 * The `Location` a visitor may follow: parsed as a URL against the URL the origin was asked for
 * (so relative, scheme-relative and upper-case spellings are all recognised). A URL on either
 * origin's host loses the origin's path prefix (the longest one it is under) and gets the public
 * host; a relative one stays relative. Other hosts are left alone.
 */
function publicLocation(location: string, context: ClientResponseContext): string {
  const served = parseOrigin(context.servedOrigin);
  let url: URL;
  try {
    url = new URL(location, served.origin + served.prefix + context.publicUrl.pathname);
  } catch {
    return location;
  }
  let onOrigin = false;
  let prefix = '';
  for (const base of context.originBases) {
    const parsed = parseOrigin(base);
    if (parsed.host !== url.host) continue;
    onOrigin = true;
    if (parsed.prefix.length > prefix.length && withinPrefix(url.pathname, parsed.prefix))
      prefix = parsed.prefix;
  }
  if (!onOrigin) return location;
  const path = url.pathname.slice(prefix.length) || '/';
  const publicPath = path + url.search + url.hash;
  const relative = !/^([a-z][a-z0-9+.-]*:|[/\\]{2})/i.test(location.trimStart());
  return relative ? publicPath : context.publicUrl.origin + publicPath;
}

function withinPrefix(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

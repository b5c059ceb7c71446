import type { Cohort } from '../split/decide-visitor';
import {
  COHORT_HEADER,
  FLAGS_HEADER,
  ROLLOUT_PREFIX,
  connectionListedHeaders,
  isFixedHopByHop,
  parseOrigin,
  withinPrefix,
  type PublicUrl,
} from './origin-request-headers';

/**
 * What crosses the Worker toward the client: the origin's headers minus hop-by-hop, kept out of
 * shared caches (unless the path is shared by both cohorts), origin redirects made public, plus
 * the cohort. What goes to the origin is in origin-request-headers.ts.
 */

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
  // An origin sends a handful of distinct values: each is worked out once per isolate.
  let result = privateValues.get(value);
  if (result === undefined) {
    result = computePrivateCacheControl(value);
    if (privateValues.size >= MAX_REMEMBERED_VALUES) privateValues.clear();
    privateValues.set(value, result);
  }
  return result;
}

// Bounded, so that an origin sending a new value per response cannot grow it without limit.
const MAX_REMEMBERED_VALUES = 256;
const privateValues = new Map<string, string>();

function computePrivateCacheControl(value: string): string {
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
 * `/assets-private`). A path with an encoded slash, backslash, dot or semicolon, a `;` (path
 * parameters: `..;` is a dot segment to Tomcat and Jetty) or a dot segment is never shared: an
 * origin may resolve it to a path outside the prefix.
 *
 * @example
 * isSharedCachePath('/assets/app.3f9a.js', ['/assets/']); // true
 */
export function isSharedCachePath(pathname: string, prefixes: readonly string[]): boolean {
  // A path the origin may read as another one (an encoded slash or backslash, a dot segment) is
  // never shared: `/assets/..%2faccount` must not be stored as if it were an asset.
  // `;` too: Tomcat and Jetty read `/assets/..;/account` (or `..%3b`) as `/assets/../account`.
  if (/%2f|%5c|%2e|%3b|;|\/\.\.?(\/|$)|\\/i.test(pathname)) return false;
  return prefixes.some((prefix) =>
    prefix.endsWith('/') ? pathname.startsWith(prefix) : withinPrefix(pathname, prefix),
  );
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
 * public host, the origin's own `x-rollout-*` dropped, plus `x-rollout-cohort` (except on a
 * shared answer, which is the same for both cohorts). Shared caches may store nothing that carries
 * a cookie, injected flags, or may differ by cohort: only a shared path without either keeps the
 * origin's caching headers.
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
  const connectionListed = connectionListedHeaders(upstream);
  let keepsSetCookie = false;
  let cdnCacheHeaders = false;
  for (const name of upstream.keys()) {
    // `x-rollout-*` and `x-feature-flags` are the Worker's words: an origin's (`x-rollout-internal`) never reach a client.
    if (
      isFixedHopByHop(name) ||
      connectionListed?.includes(name) === true ||
      name === FLAGS_HEADER ||
      name.startsWith(ROLLOUT_PREFIX)
    )
      headers.delete(name);
    else if (name === 'set-cookie') keepsSetCookie = true;
    else if (CDN_CACHE_HEADERS.includes(name)) cdnCacheHeaders = true;
  }
  if (context.setCookie) headers.append('set-cookie', context.setCookie);
  const setsCookie = keepsSetCookie || Boolean(context.setCookie);
  const shared = context.sharedPath === true && !context.injectsFlags && !setsCookie;
  if (!shared) keepOutOfSharedCaches(headers, cdnCacheHeaders);
  if (context.injectsFlags) {
    // The page carries this visitor's flags now: a browser must not revalidate it into an old
    // copy (the origin would answer 304 to its validators and keep stale window.__FLAGS__).
    headers.delete('etag');
    headers.delete('last-modified');
    headers.set('cache-control', 'private, no-cache');
  }
  const location = headers.get('location');
  if (location) headers.set('location', publicLocation(location, context));
  // A shared answer is the same for both cohorts and may be stored for everyone: naming the
  // cohort of the visitor who happened to fetch it would tell the next visitor a wrong one.
  if (!shared) headers.set(COHORT_HEADER, context.cohort);
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

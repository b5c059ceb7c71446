import type { Cohort } from '../split/decide-visitor';

/**
 * What crosses the Worker toward the origin: the client's headers minus hop-by-hop headers and
 * every spelling of a header the Worker owns or sets, plus the cohort, the flags and
 * X-Forwarded-*. What both directions share (the rollout header names, the hop-by-hop test, the
 * parsed origin URL) lives here too; what goes back to the client is in client-response-headers.ts.
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

/** The fixed hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection. */
export const HOP_BY_HOP: readonly string[] = Object.freeze([
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
export function hopByHopHeaders(headers: Headers): readonly string[] {
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

/**
 * The hop-by-hop headers a `Connection` header names beyond the fixed list, or undefined when it
 * names none (no `Connection`, or the usual `keep-alive`): the per-request loops then test the
 * fixed list only.
 */
export function connectionListedHeaders(headers: Headers): readonly string[] | undefined {
  if (!headers.has('connection')) return undefined;
  const listed = hopByHopHeaders(headers);
  return listed === HOP_BY_HOP ? undefined : listed;
}

/** Whether a header name is on the fixed hop-by-hop list (a switch: no lookup structure per call). */
export function isFixedHopByHop(name: string): boolean {
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

/**
 * Whether a path is `prefix` itself or under it (`/assets` covers `/assets/a`, never
 * `/assets-private`).
 *
 * @example
 * withinPrefix('/__rollout/state', '/__rollout'); // true
 */
export function withinPrefix(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/** What the Worker tells the origin about a request. */
export interface OriginRequestContext {
  cohort: Cohort;
  flags: Readonly<Record<string, unknown>>;
  /** The URL the visitor asked for (the Worker's public URL). */
  publicUrl: PublicUrl;
  /** The verified visitor IP (`CF-Connecting-IP`), if any. */
  visitorIp: string | null;
  /** Keep `Upgrade`/`Connection` (and only them) so that a WebSocket handshake reaches the origin. */
  webSocket: boolean;
  /** The configured identity header: trusted as it arrives, so its other spellings are not. */
  identityHeader?: string;
}

/**
 * Whether a client header name is, or could be read by the origin as, a header the Worker owns
 * or sets: `x-rollout-*`, `x-feature-flags`, `x-forwarded-*`, `forwarded`, `x-real-ip`,
 * `true-client-ip` and the other client-IP spellings frameworks read (`client-ip`,
 * `x-client-ip`, `x-cluster-client-ip`, `fastly-client-ip`, `x-original-forwarded-for`). CGI-style servers (WSGI, Rack, PHP) read `_` as `-` (`HTTP_X_FEATURE_FLAGS`),
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
    // Other client-IP spellings that frameworks read (Rails' Client-IP, proxies' X-Client-IP …).
    case 'client-ip':
    case 'x-client-ip':
    case 'x-cluster-client-ip':
    case 'fastly-client-ip':
    case 'x-original-forwarded-for':
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
  const connectionListed = connectionListedHeaders(inbound);
  for (const name of inbound.keys()) {
    // A WebSocket handshake keeps the two headers that make it one; every other hop-by-hop goes.
    const hopByHop =
      (isFixedHopByHop(name) || connectionListed?.includes(name) === true) &&
      !(context.webSocket && (name === 'upgrade' || name === 'connection'));
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

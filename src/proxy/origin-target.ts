// Origins are a handful of strings per config; parsing them once keeps URL parsing off the
// per-request path. Bounded so that a stream of configs cannot grow it without limit.
const parsedOrigins = new Map<string, { origin: string; prefix: string; url: URL }>();

/**
 * The parsed form of an origin base URL, memoized.
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

/**
 * The origin URL for a request: the origin base (which may carry a path prefix) plus the
 * request's path and query.
 *
 * @example
 * originTarget(new URL('https://app.example/a?b=1'), 'http://127.0.0.1:8702/v2');
 * // 'http://127.0.0.1:8702/v2/a?b=1'
 */
export function originTarget(requestUrl: URL, originBase: string): string {
  const { origin, prefix } = parseOrigin(originBase);
  // A string, not a URL: fetch parses it once anyway, so building a URL here would parse twice.
  return `${origin}${prefix}${requestUrl.pathname}${requestUrl.search}`;
}

/**
 * The origin URL for a request: the origin base (which may carry a path prefix) plus the
 * request's path and query.
 *
 * @example
 * originTarget(new URL('https://app.example/a?b=1'), 'http://127.0.0.1:8702/v2').href;
 * // 'http://127.0.0.1:8702/v2/a?b=1'
 */
export function originTarget(requestUrl: URL, originBase: string): URL {
  const base = new URL(originBase);
  const prefix = base.pathname.replace(/\/$/, '');
  return new URL(`${base.origin}${prefix}${requestUrl.pathname}${requestUrl.search}`);
}

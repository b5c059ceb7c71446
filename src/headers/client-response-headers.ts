import type { Cohort } from '../cohort/assign-cohort';
import { privateCacheControl } from './cache-policy';
import { hopByHopHeaders } from './hop-by-hop';
import { setCookies } from './set-cookies';
import { COHORT_HEADER, isRolloutHeader } from './rollout-headers';

/** What the Worker adds to an origin response. */
export interface ClientResponseContext {
  cohort: Cohort;
  /** A `Set-Cookie` to append (a fresh visitor id), if any. */
  setCookie?: string;
  /** The origin's base URL and the Worker's public origin, to rewrite absolute redirects. */
  originBase: URL;
  publicOrigin: string;
}

/**
 * Builds the headers returned to the client: origin headers (every `Set-Cookie` kept) minus
 * hop-by-hop and rollout headers, shared caching downgraded, redirects to the origin's own
 * host rewritten to the public host, plus `x-rollout-cohort`.
 */
export function buildClientResponseHeaders(upstream: Headers, context: ClientResponseContext): Headers {
  const drop = hopByHopHeaders(upstream);
  const headers = new Headers();
  for (const [name, value] of upstream) {
    if (drop.has(name) || isRolloutHeader(name)) continue;
    headers.append(name, value);
  }
  // Headers iteration folds Set-Cookie in some runtimes; getSetCookie() keeps each one apart.
  headers.delete('set-cookie');
  for (const cookie of setCookies(upstream)) headers.append('set-cookie', cookie);
  if (context.setCookie) headers.append('set-cookie', context.setCookie);

  const cacheControl = privateCacheControl(upstream.get('cache-control'));
  if (cacheControl !== null) headers.set('cache-control', cacheControl);
  const location = upstream.get('location');
  if (location) headers.set('location', publicLocation(location, context.originBase, context.publicOrigin));
  headers.set(COHORT_HEADER, context.cohort);
  return headers;
}

function publicLocation(location: string, originBase: URL, publicOrigin: string): string {
  if (!location.startsWith(originBase.origin + '/') && location !== originBase.origin) return location;
  return publicOrigin + location.slice(originBase.origin.length);
}

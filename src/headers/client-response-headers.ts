import type { Cohort } from '../cohort/assign-cohort';
import { privateCacheControl } from './cache-policy';
import { parseOrigin } from '../proxy/origin-target';
import { hopByHopHeaders } from './hop-by-hop';
import { COHORT_HEADER, FLAGS_HEADER } from './rollout-headers';

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

import type { Cohort } from '../cohort/assign-cohort';
import { hopByHopHeaders } from './hop-by-hop';
import { COHORT_HEADER, FLAGS_HEADER, ROLLOUT_PREFIX } from './rollout-headers';

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
 *
 * @example
 * buildOriginRequestHeaders(request.headers, { cohort: 'canary', flags: { templates: true }, ... });
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

import type { Cohort } from '../cohort/assign-cohort';
import { hopByHopHeaders } from './hop-by-hop';
import { COHORT_HEADER, FLAGS_HEADER, isRolloutHeader } from './rollout-headers';

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

const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded'];

/**
 * Builds the headers sent to the origin: client headers minus hop-by-hop, client-sent rollout
 * headers and unverifiable forwarding headers; plus the cohort, the flags and X-Forwarded-*.
 *
 * @example
 * buildOriginRequestHeaders(request.headers, { cohort: 'canary', flags: { templates: true }, ... });
 */
export function buildOriginRequestHeaders(inbound: Headers, context: OriginRequestContext): Headers {
  const drop = context.webSocket ? new Set<string>() : hopByHopHeaders(inbound);
  const headers = new Headers();
  for (const [name, value] of inbound) {
    // A client-supplied X-Forwarded-For cannot be verified; only CF-Connecting-IP can.
    if (drop.has(name) || isRolloutHeader(name) || FORWARDED_HEADERS.includes(name) || name === 'host')
      continue;
    headers.append(name, value);
  }
  headers.set(COHORT_HEADER, context.cohort);
  headers.set(FLAGS_HEADER, JSON.stringify(context.flags));
  headers.set('x-forwarded-host', context.publicUrl.host);
  headers.set('x-forwarded-proto', context.publicUrl.protocol.replace(':', ''));
  if (context.visitorIp) headers.set('x-forwarded-for', context.visitorIp);
  return headers;
}

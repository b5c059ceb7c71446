const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): the fixed list plus any named in `Connection`.
 * They describe one connection and must not be forwarded.
 *
 * @example
 * hopByHopHeaders(new Headers({ connection: 'x-debug' })).has('x-debug'); // true
 */
export function hopByHopHeaders(headers: Headers): Set<string> {
  const names = new Set(HOP_BY_HOP);
  for (const token of (headers.get('connection') ?? '').split(',')) {
    const name = token.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names;
}

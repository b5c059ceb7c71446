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
 * They describe one connection and must not be forwarded. Without a `Connection` header (the
 * usual case on the per-request path) the shared fixed list is returned, allocating nothing.
 *
 * @example
 * hopByHopHeaders(new Headers({ connection: 'x-debug' })).includes('x-debug'); // true
 */
export function hopByHopHeaders(headers: Headers): readonly string[] {
  const connection = headers.get('connection');
  if (!connection) return HOP_BY_HOP;
  const names = [...HOP_BY_HOP];
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

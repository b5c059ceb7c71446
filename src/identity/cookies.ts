/** Cookie headers beyond this size are not parsed: a hostile header costs nothing. */
const MAX_COOKIE_HEADER = 16_384;

/**
 * Reads one cookie from a `Cookie` header. Returns the first occurrence, undefined when absent,
 * malformed or when the header is oversized.
 *
 * @example
 * readCookie('a=1; rollout_id=abc12345', 'rollout_id'); // 'abc12345'
 */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header || header.length > MAX_COOKIE_HEADER) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The `Set-Cookie` value that stores a visitor id.
 *
 * @example
 * visitorCookie('rollout_id', 'abc12345', 2592000);
 * // 'rollout_id=abc12345; Path=/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax'
 */
export function visitorCookie(name: string, id: string, maxAgeSeconds: number): string {
  return `${name}=${id}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`;
}

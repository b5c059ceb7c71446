/**
 * A constant-time check of a presented bearer token. Both sides are hashed with SHA-256 first,
 * so they always have the same length: `timingSafeEqual` needs equal lengths, and comparing
 * digests leaks neither the token's content nor its length. The expected digest is computed once.
 *
 * @example
 * const matches = bearerTokenCheck(env.ADMIN_TOKEN);
 * await matches('guess'); // false
 */
export function bearerTokenCheck(expected: string): (presented: string) => Promise<boolean> {
  const encoder = new TextEncoder();
  const expectedDigest = crypto.subtle.digest('SHA-256', encoder.encode(expected));
  return async function matchesAdminToken(presented) {
    const digest = await crypto.subtle.digest('SHA-256', encoder.encode(presented));
    return crypto.subtle.timingSafeEqual(digest, await expectedDigest);
  };
}

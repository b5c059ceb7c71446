import * as z from 'zod/mini';
import type { Clock } from '../../ports/clock';

const JwksSchema = z.object({
  keys: z.array(z.looseObject({ kid: z.optional(z.string()), kty: z.string() })),
});

/** Options of {@link remoteJwks}. */
export interface RemoteJwksOptions {
  url: URL;
  clock: Clock;
  fetch: (url: URL) => Promise<Response>;
  /** How long a fetched key set is trusted before it is fetched again. */
  maxAgeMs?: number;
  /** The least time between two fetches, so unknown key ids cannot hammer the issuer. */
  cooldownMs?: number;
}

/**
 * A JWKS fetched from the issuer and cached in the isolate, returning RS256 verify keys by key id.
 * A key id that is not in the cached set triggers one refetch (keys rotate), rate-limited by the
 * cooldown. Network or format errors yield undefined: the token is then simply not accepted.
 *
 * @example
 * const keyFor = remoteJwks({ url: new URL('https://team.cloudflareaccess.com/cdn-cgi/access/certs'), clock, fetch });
 * const key = await keyFor('kid-1');
 */
export function remoteJwks({
  url,
  clock,
  fetch,
  maxAgeMs = 10 * 60_000,
  cooldownMs = 30_000,
}: RemoteJwksOptions): (kid: string) => Promise<CryptoKey | undefined> {
  let keys = new Map<string, CryptoKey>();
  let fetchedAt = -Infinity;

  async function refresh(): Promise<void> {
    fetchedAt = clock.now();
    try {
      const response = await fetch(url);
      if (!response.ok) return;
      const parsed = JwksSchema.safeParse(await response.json());
      if (!parsed.success) return;
      const next = new Map<string, CryptoKey>();
      for (const jwk of parsed.data.keys) {
        if (jwk.kty !== 'RSA' || !jwk.kid) continue;
        try {
          const key = await crypto.subtle.importKey(
            'jwk',
            jwk as JsonWebKey,
            { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
            false,
            ['verify'],
          );
          next.set(jwk.kid, key);
        } catch {
          // A malformed key is skipped; the others still work.
        }
      }
      keys = next;
    } catch {
      // Unreachable issuer: keep the keys we have.
    }
  }

  return async function keyFor(kid) {
    const age = clock.now() - fetchedAt;
    if (age > maxAgeMs || (!keys.has(kid) && age > cooldownMs)) await refresh();
    return keys.get(kid);
  };
}

import * as z from 'zod/mini';
import { base64UrlBytes } from '../encoding';
import type { Clock } from '../ports';

/** What a token must satisfy. */
export interface JwtExpectations {
  issuer: string;
  audience: string;
  nowSeconds: number;
  keyFor(kid: string): Promise<CryptoKey | undefined>;
}

/**
 * Verifies a compact RS256 JWT with WebCrypto: the header names RS256 and a known key id, the
 * signature verifies, and the claims match issuer, audience and time. Never throws; undefined
 * means "not a valid token", whatever the reason.
 */
export async function verifyRs256Jwt(
  token: string,
  expected: JwtExpectations,
): Promise<JwtClaims | undefined> {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 16_384) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = JwtHeaderSchema.safeParse(decodeJson(headerPart));
  const claims = JwtClaimsSchema.safeParse(decodeJson(payloadPart));
  const signature = base64UrlBytes(signaturePart);
  if (!header.success || !claims.success || !signature) return undefined;
  const key = await expected.keyFor(header.data.kid);
  if (!key) return undefined;
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  const ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, signed).catch(() => false);
  return ok && claimsValid(claims.data, expected) ? claims.data : undefined;
}

function decodeJson(part: string): unknown {
  const bytes = base64UrlBytes(part);
  if (!bytes) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** The JOSE header of an RS256 JWT. */
export const JwtHeaderSchema = z.object({ alg: z.literal('RS256'), kid: z.string().check(z.minLength(1)) });

/** The registered claims checked, plus the identity claims Access sets. */
export const JwtClaimsSchema = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
  nbf: z.optional(z.number()),
  email: z.optional(z.string()),
  common_name: z.optional(z.string()),
  sub: z.optional(z.string()),
});

/** Validated claims. */
export type JwtClaims = z.infer<typeof JwtClaimsSchema>;

/**
 * Whether claims are valid for an issuer and audience at a time (seconds since the epoch):
 * exact issuer, audience contained, not expired, not before its `nbf`.
 */
export function claimsValid(
  claims: JwtClaims,
  expected: { issuer: string; audience: string; nowSeconds: number },
): boolean {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return (
    claims.iss === expected.issuer &&
    audiences.includes(expected.audience) &&
    claims.exp > expected.nowSeconds &&
    (claims.nbf === undefined || claims.nbf <= expected.nowSeconds)
  );
}

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

import * as z from 'zod/mini';

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
 *
 * @example
 * claimsValid(claims, { issuer: 'https://team.cloudflareaccess.com', audience: 'aud-tag', nowSeconds: 1764000000 });
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

import { base64UrlBytes } from '../../encoding/base64url';
import { claimsValid, JwtClaimsSchema, JwtHeaderSchema, type JwtClaims } from './jwt-claims';

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
 *
 * @example
 * const claims = await verifyRs256Jwt(token, { issuer, audience, nowSeconds, keyFor });
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

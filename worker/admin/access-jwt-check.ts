import * as z from 'zod/mini';
import type { Clock } from '../../src/ports/clock';
import type { Logger } from '../../src/ports/logger';
import { remoteJwks } from '../../src/admin/jwt/remote-jwks';
import { verifyRs256Jwt } from '../../src/admin/jwt/verify-rs256-jwt';

/**
 * A Cloudflare Access team domain: `https://<team>.cloudflareaccess.com`, or a loopback
 * `http://127.0.0.1:PORT` / `http://localhost:PORT` for local tests. No path, query or fragment.
 */
export const TeamDomainSchema = z.string().check(
  z.refine((value) => {
    try {
      const url = new URL(value);
      const loopback = url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname);
      return (url.protocol === 'https:' || loopback) && url.pathname === '/' && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, 'ACCESS_TEAM_DOMAIN must be https://<team>.cloudflareaccess.com (or a loopback http URL)'),
);

/** Verifies an Access JWT; resolves to the audit actor, or undefined when the JWT is not valid. */
export type AccessJwtCheck = (jwt: string) => Promise<string | undefined>;

/**
 * Verifies `Cf-Access-Jwt-Assertion` (RS256, WebCrypto) against the team's JWKS
 * (`<team>/cdn-cgi/access/certs`, cached in the isolate), the team domain as issuer and
 * ACCESS_AUD as audience. Returns undefined (Access off) unless both are set and valid.
 *
 * @example
 * const check = accessJwtCheck({ teamDomain, audience, clock, logger });
 * const actor = check && (await check(jwt)); // 'ops@example.com'
 */
export function accessJwtCheck(options: {
  teamDomain?: string;
  audience?: string;
  clock: Clock;
  logger: Logger;
}): AccessJwtCheck | undefined {
  if (!options.teamDomain && !options.audience) return undefined;
  const domain = TeamDomainSchema.safeParse(options.teamDomain);
  if (!domain.success || !options.audience) {
    // Half or badly configured: Access stays off rather than half-checking tokens.
    options.logger.error('Cloudflare Access is off: set a valid ACCESS_TEAM_DOMAIN and ACCESS_AUD');
    return undefined;
  }
  const issuer = new URL(domain.data).origin;
  const keyFor = remoteJwks({
    url: new URL('/cdn-cgi/access/certs', issuer),
    clock: options.clock,
    fetch: (url) => fetch(url),
  });
  const audience = options.audience;
  return async function verifyAccessJwt(jwt) {
    const nowSeconds = Math.floor(options.clock.now() / 1000);
    const claims = await verifyRs256Jwt(jwt, { issuer, audience, nowSeconds, keyFor });
    if (!claims) return undefined;
    if (claims.email) return claims.email;
    // Service tokens carry no email; their client id is the identity.
    if (claims.common_name) return `service:${claims.common_name}`;
    return claims.sub ? `access:${claims.sub}` : undefined;
  };
}

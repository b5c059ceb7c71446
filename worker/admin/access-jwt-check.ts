import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as z from 'zod/mini';
import type { Clock } from '../../src/ports/clock';
import type { Logger } from '../../src/ports/logger';

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
 * Verifies `Cf-Access-Jwt-Assertion` with jose against the team's JWKS
 * (`<team>/cdn-cgi/access/certs`, fetched and cached by jose), the team domain as issuer and
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
  const keys = createRemoteJWKSet(new URL('/cdn-cgi/access/certs', issuer));
  const audience = options.audience;
  return async function verifyAccessJwt(jwt) {
    try {
      const { payload } = await jwtVerify(jwt, keys, {
        issuer,
        audience,
        algorithms: ['RS256'],
        currentDate: new Date(options.clock.now()),
      });
      if (typeof payload.email === 'string' && payload.email) return payload.email;
      // Service tokens carry no email; their client id is the identity.
      if (typeof payload.common_name === 'string' && payload.common_name)
        return `service:${payload.common_name}`;
      return typeof payload.sub === 'string' && payload.sub ? `access:${payload.sub}` : undefined;
    } catch {
      return undefined;
    }
  };
}

import type { MiddlewareHandler } from 'hono';
import * as z from 'zod/mini';
import { remoteJwks, verifyRs256Jwt } from '../../../src/admin/access-jwt';
import { ActorLabelSchema } from '../../../src/admin/admin-schemas';
import { describeIssues } from '../../../src/config/parse-config';
import type { Settings } from '../../../src/config/settings';
import type { Clock, Logger } from '../../../src/ports';
import { bearerTokenCheck } from '../../shared/secret-compare';
import { forwardedFrom } from '../../shared/plane-protocol';
import { AdminError, type AdminEnv } from './admin-http';

/** Options of {@link adminAuth}. */
export interface AdminAuthOptions {
  settings: Settings;
  clock: Clock;
  logger: Logger;
  /** Where failed attempts are counted: the control plane, shared by every isolate. */
  throttle: AuthThrottle;
  /** Failed attempts allowed per address and window before 429 (default 10 per minute). */
  maxFailures?: number;
  windowMs?: number;
}

/** Counts failed authentications per client address (the control plane implements it). */
export interface AuthThrottle {
  authRetryAfter(
    address: string,
    now: number,
    limits: { maxFailures: number; windowMs: number },
  ): Promise<number>;
  recordAuthFailure(
    address: string,
    now: number,
    limits: { maxFailures: number; windowMs: number },
  ): Promise<void>;
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i;
const MAX_JWT_LENGTH = 16_384;

/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>` (constant-time) or, on the
 * cockpit's own origin only, a Cloudflare Access JWT in `Cf-Access-Jwt-Assertion`. Writes sent by a browser from another origin are
 * refused (403) before any credential is looked at. With neither configured every request gets 503
 * `admin disabled`, never unauthenticated access. Failures are counted per `CF-Connecting-IP` in
 * the control plane, so guesses spread over isolates and locations count together; past the
 * limit the address gets 429 with Retry-After until its window ends. Sets `actor`:
 * `token`, `token:<x-rollout-actor>`, or the Access identity (email).
 *
 * @example
 * admin.put('/percent', adminAuth({ settings, clock, logger, throttle: deps.control }), handler);
 */
export function adminAuth({
  settings,
  clock,
  logger,
  throttle,
  maxFailures = 10,
  windowMs = 60_000,
}: AdminAuthOptions): MiddlewareHandler<AdminEnv> {
  const matchesToken = settings.ADMIN_TOKEN ? bearerTokenCheck(settings.ADMIN_TOKEN) : undefined;
  const verifyAccess = accessJwtCheck({
    teamDomain: settings.ACCESS_TEAM_DOMAIN,
    audience: settings.ACCESS_AUD,
    clock,
    logger,
  });
  const limits = { maxFailures, windowMs };

  async function tokenActor(headers: Headers): Promise<string | undefined> {
    const match = matchesToken && BEARER.exec(headers.get('authorization') ?? '');
    if (!match || !(await matchesToken(match[1]!))) return undefined;
    const label = headers.get('x-rollout-actor');
    if (label === null) return 'token';
    const parsed = ActorLabelSchema.safeParse(label);
    if (!parsed.success)
      throw new AdminError(400, 'invalid x-rollout-actor header', describeIssues(parsed.error));
    return `token:${parsed.data}`;
  }

  async function accessActor(headers: Headers): Promise<string | undefined> {
    const jwt = headers.get('cf-access-jwt-assertion');
    if (!verifyAccess || !jwt || jwt.length > MAX_JWT_LENGTH) return undefined;
    return verifyAccess(jwt);
  }

  return async function adminAuthMiddleware(c, next) {
    if (!matchesToken && !verifyAccess)
      throw new AdminError(503, 'admin disabled: set ADMIN_TOKEN, or ACCESS_TEAM_DOMAIN and ACCESS_AUD');
    if (isCrossSiteWrite(c.req.raw)) throw new AdminError(403, 'cross-origin admin writes are refused');
    const address = c.req.header('cf-connecting-ip') ?? 'unknown';
    const retryAfter = await throttle.authRetryAfter(address, clock.now(), limits);
    if (retryAfter > 0)
      throw new AdminError(429, 'too many failed attempts; retry later', undefined, retryAfter);
    const headers = c.req.raw.headers;
    // On the app's host only the bearer token counts: an Access JWT or cookie would be sent by
    // any script of the app's origin (docs/ARCHITECTURE.md, "Two planes").
    const onAppHost = forwardedFrom(headers).host === 'app';
    const actor = (await tokenActor(headers)) ?? (onAppHost ? undefined : await accessActor(headers));
    if (!actor) {
      await throttle.recordAuthFailure(address, clock.now(), limits);
      logger.warn('admin authentication failed', { address, path: c.req.path });
      throw new AdminError(401, 'unauthorized');
    }
    c.set('actor', actor);
    await next();
  };
}

/**
 * Whether a browser sent this write from another site. Access adds its JWT header to any request
 * carrying the Access cookie, so without this check a page elsewhere could post a form (even a
 * JSON-looking text/plain one) to the admin API as the signed-in operator. Browsers always send
 * `Origin` (and `Sec-Fetch-Site`) on cross-origin writes; curl and the CLI send neither.
 */
function isCrossSiteWrite(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false;
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.get('origin');
  return origin !== null && origin !== new URL(request.url).origin;
}

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

import type { MiddlewareHandler } from 'hono';
import { ActorLabelSchema } from '../../src/admin/admin-bodies';
import { describeIssues } from '../../src/config/describe-issues';
import type { Settings } from '../../src/env/settings-schema';
import type { Clock } from '../../src/ports/clock';
import type { Logger } from '../../src/ports/logger';
import { accessJwtCheck } from './access-jwt-check';
import type { AdminEnv } from './admin-env';
import { AdminError } from './admin-error';
import { bearerTokenCheck } from './bearer-token-check';
import { FailureThrottle } from './failure-throttle';

/** Options of {@link adminAuth}. */
export interface AdminAuthOptions {
  settings: Settings;
  clock: Clock;
  logger: Logger;
  /** Failed attempts allowed per address and window before 429 (default 10 per minute). */
  maxFailures?: number;
  windowMs?: number;
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i;
const MAX_JWT_LENGTH = 16_384;

/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>` (constant-time) or a Cloudflare
 * Access JWT in `Cf-Access-Jwt-Assertion`. Writes sent by a browser from another origin are
 * refused (403) before any credential is looked at. With neither configured every request gets 503
 * `admin disabled`, never unauthenticated access. Failures are counted per `CF-Connecting-IP`;
 * past the limit the address gets 429 with Retry-After until its window ends. Sets `actor`:
 * `token`, `token:<x-rollout-actor>`, or the Access identity (email).
 *
 * @example
 * admin.put('/percent', adminAuth({ settings, clock, logger }), handler);
 */
export function adminAuth({
  settings,
  clock,
  logger,
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
  const throttle = new FailureThrottle({ maxFailures, windowMs });

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
    const retryAfter = throttle.retryAfterSeconds(address, clock.now());
    if (retryAfter > 0)
      throw new AdminError(429, 'too many failed attempts; retry later', undefined, retryAfter);
    const headers = c.req.raw.headers;
    const actor = (await tokenActor(headers)) ?? (await accessActor(headers));
    if (!actor) {
      throttle.recordFailure(address, clock.now());
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

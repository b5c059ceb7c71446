import type { MiddlewareHandler } from 'hono';
import * as z from 'zod/mini';
import { remoteJwks, verifyRs256Jwt } from '../../../src/admin/access-jwt';
import { ActorLabelSchema } from '../../../src/admin/admin-schemas';
import { describeIssues } from '../../../src/config/parse-config';
import type { Settings } from '../../../src/config/settings';
import type { Clock, Logger } from '../../../src/ports';
import {
  ADMIN_TOKEN_NAME,
  AdminTokensSchema,
  findToken,
  roleAllows,
  sha256Of,
  tokenActor,
  type NamedTokenHash,
  type Permission,
  type Role,
} from '../../../src/admin/tokens';
import { forwardedFrom } from '../../shared/plane-protocol';
import { AdminError, type AdminEnv } from './admin-http';

/** Options of {@link adminAuth}. */
export interface AdminAuthOptions {
  settings: Settings;
  clock: Clock;
  logger: Logger;
  /** Failed attempts allowed per address and window before 429 (default 10 per minute). */
  maxFailures?: number;
  windowMs?: number;
}

/** Who a request authenticated as: the audit actor and the role that decides what it may do. */
interface Identity {
  actor: string;
  role: Role;
}

/** A route's guard: `auth('read')` lets through only identities whose role has that permission. */
export type RequirePermission = (permission: Permission) => MiddlewareHandler<AdminEnv>;

const BEARER = /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i;
const MAX_JWT_LENGTH = 16_384;
const DEV_HINT =
  'development: `npm start` makes a fresh admin token on each start; use the ROLLOUT_TOKEN its banner prints';

/**
 * Admin authentication and authorization, all in the control Worker and before any Durable
 * Object call (a flood of bad credentials never reaches the single writer):
 * - `Authorization: Bearer <token>`: a named token of `ADMIN_TOKENS` (hashes, src/admin/tokens.ts),
 *   or `ADMIN_TOKEN`, the single token named `admin` with the admin role. The audit actor is the
 *   token's name, `ci-deployer (alice)` when the CLI names its person in `x-rollout-actor`.
 * - On the cockpit's own origin only, a Cloudflare Access JWT in `Cf-Access-Jwt-Assertion`: the
 *   identity (email) with the admin role; the Access policy decides who gets that far.
 *
 * Then the role must allow the route's permission (403 otherwise). Writes a browser sends from
 * another origin are refused (403) first. With no credential configured every route answers 503
 * `admin disabled`; an invalid `ADMIN_TOKENS` also answers 503 (and is logged), never
 * unauthenticated access. Failures only are throttled, per isolate ({@link FailureThrottle}):
 * a valid credential is checked first and always passes.
 *
 * @example
 * const auth = adminAuth({ settings, clock, logger });
 * admin.put('/percent', auth('operate'), handler);
 */
export function adminAuth({
  settings,
  clock,
  logger,
  maxFailures = 10,
  windowMs = 60_000,
}: AdminAuthOptions): RequirePermission {
  const tokens = loadTokens(settings, logger);
  const verifyAccess = accessJwtCheck({
    teamDomain: settings.ACCESS_TEAM_DOMAIN,
    audience: settings.ACCESS_AUD,
    clock,
    logger,
  });
  const throttle = new FailureThrottle({ maxFailures, windowMs });
  const development = settings.ENVIRONMENT === 'development';

  async function tokenIdentity(
    headers: Headers,
    known: readonly NamedTokenHash[],
  ): Promise<Identity | undefined> {
    const match = known.length > 0 && BEARER.exec(headers.get('authorization') ?? '');
    if (!match) return undefined;
    const token = findToken(known, await sha256Of(match[1]!));
    if (!token) return undefined;
    const label = headers.get('x-rollout-actor');
    if (label === null) return { actor: token.name, role: token.role };
    const parsed = ActorLabelSchema.safeParse(label);
    if (!parsed.success)
      throw new AdminError(400, 'invalid x-rollout-actor header', describeIssues(parsed.error));
    return { actor: tokenActor(token.name, parsed.data), role: token.role };
  }

  async function accessIdentity(headers: Headers): Promise<Identity | undefined> {
    const jwt = headers.get('cf-access-jwt-assertion');
    if (!verifyAccess || !jwt || jwt.length > MAX_JWT_LENGTH) return undefined;
    const actor = await verifyAccess(jwt);
    return actor === undefined ? undefined : { actor, role: 'admin' };
  }

  return function requirePermission(permission) {
    return async function adminAuthMiddleware(c, next) {
      const known = await tokens;
      if (known === 'invalid')
        throw new AdminError(503, 'admin disabled: ADMIN_TOKENS is invalid (the control Worker logs why)');
      if (known.length === 0 && !verifyAccess)
        throw new AdminError(
          503,
          'admin disabled: set ADMIN_TOKENS or ADMIN_TOKEN, or ACCESS_TEAM_DOMAIN and ACCESS_AUD',
        );
      if (isCrossSiteWrite(c.req.raw)) throw new AdminError(403, 'cross-origin admin writes are refused');
      const headers = c.req.raw.headers;
      // On the app's host only the bearer token counts: an Access JWT or cookie would be sent by
      // any script of the app's origin (docs/ARCHITECTURE.md, "Two planes").
      const onAppHost = forwardedFrom(headers).host === 'app';
      const identity =
        (await tokenIdentity(headers, known)) ?? (onAppHost ? undefined : await accessIdentity(headers));
      if (!identity) {
        const address = c.req.header('cf-connecting-ip') ?? 'unknown';
        const retryAfter = throttle.fail(address, clock.now());
        if (retryAfter > 0)
          throw new AdminError(429, 'too many failed attempts; retry later', undefined, retryAfter);
        logger.warn('admin authentication failed', { address, path: c.req.path });
        throw new AdminError(401, 'unauthorized', development ? [DEV_HINT] : undefined);
      }
      if (!roleAllows(identity.role, permission))
        throw new AdminError(
          403,
          `forbidden: ${identity.actor} has the ${identity.role} role, which cannot ${permission} (docs/TOKENS.md)`,
        );
      c.set('actor', identity.actor);
      await next();
    };
  };
}

/**
 * The tokens a request may present: `ADMIN_TOKENS`' entries, then `ADMIN_TOKEN` as `admin`.
 * `'invalid'` (logged once per isolate, naming the entry but never a hash) when `ADMIN_TOKENS`
 * does not parse: the admin API then answers 503 until the secret is fixed; the edge, and so
 * every visitor, never reads it.
 */
async function loadTokens(settings: Settings, logger: Logger): Promise<NamedTokenHash[] | 'invalid'> {
  const tokens: NamedTokenHash[] = [];
  if (settings.ADMIN_TOKENS) {
    const parsed = AdminTokensSchema.safeParse(settings.ADMIN_TOKENS);
    if (!parsed.success) {
      logger.error('the admin API is off: ADMIN_TOKENS is invalid', {
        issues: parsed.error.issues.map((issue) => issue.message),
      });
      return 'invalid';
    }
    tokens.push(...parsed.data);
  }
  if (settings.ADMIN_TOKEN)
    tokens.push({ name: ADMIN_TOKEN_NAME, role: 'admin', sha256: await sha256Of(settings.ADMIN_TOKEN) });
  return tokens;
}

/** The most addresses a {@link FailureThrottle} remembers; the oldest is forgotten first. */
export const MAX_THROTTLED_ADDRESSES = 10_000;

/**
 * Failed authentications per client address, in this isolate's memory: no Durable Object (or any
 * other) call, so failures cost the single writer nothing. Only failures are counted and only
 * failures are refused (429): the caller checks the credential first, so a valid token passes
 * even from an address that has just failed a thousand times (a shared NAT, an operator with a
 * stale token in one tab). Brute force is not what this stops: a 32-character random token is out
 * of reach anyway. It keeps a scanner's noise cheap. IPv6 addresses count per /64, since one host
 * holds a whole /64 and could otherwise rotate through it. The map is bounded: past
 * {@link MAX_THROTTLED_ADDRESSES} the oldest window is dropped.
 *
 * @example
 * const throttle = new FailureThrottle({ maxFailures: 10, windowMs: 60_000 });
 * throttle.fail('203.0.113.7', Date.now()); // 0: answer 401; > 0: answer 429 with Retry-After
 */
export class FailureThrottle {
  readonly #windows = new Map<string, { failures: number; startedAt: number }>();

  constructor(private readonly limits: { maxFailures: number; windowMs: number }) {}

  /**
   * Records one failure from `address`; resolves to the seconds to wait (Retry-After) once the
   * address has failed more than `maxFailures` times in the window, else 0.
   */
  fail(address: string, now: number): number {
    const key = throttleKey(address);
    const window = this.#windows.get(key);
    if (window && now - window.startedAt < this.limits.windowMs) {
      window.failures++;
      if (window.failures <= this.limits.maxFailures) return 0;
      return Math.max(1, Math.ceil((window.startedAt + this.limits.windowMs - now) / 1000));
    }
    this.#windows.delete(key);
    if (this.#windows.size >= MAX_THROTTLED_ADDRESSES)
      this.#windows.delete(this.#windows.keys().next().value!);
    this.#windows.set(key, { failures: 1, startedAt: now });
    return 0;
  }

  /** How many addresses are remembered (tests check the bound). */
  get size(): number {
    return this.#windows.size;
  }
}

/**
 * The key an address is counted under: an IPv4 address as is, an IPv6 address by its /64
 * (the first four groups, `::` expanded), anything else as one `other` bucket.
 *
 * @example
 * throttleKey('2001:db8:1:2:aaaa::1'); // '2001:db8:1:2::/64'
 */
export function throttleKey(address: string): string {
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(address)) return address;
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(address) || !address.includes(':')) return 'other';
  const [head = '', tail] = address.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups];
  const prefix = groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, ''));
  if (prefix.length < 4 || prefix.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return 'other';
  return `${prefix.join(':')}::/64`;
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

import type { Handler } from 'hono';
import { OverrideLinkBodySchema, OverrideQuerySchema } from '../../../src/admin/admin-schemas';
import { OVERRIDE_COOKIE, overrideTokens } from '../../../src/admin/override-token';
import { describeIssues } from '../../../src/config/parse-config';
import type { ControlDeps } from '../control-deps';
import { AdminError, readJsonBody, type AdminEnv } from './admin-http';

const disabled = () => new AdminError(503, 'override links disabled: set OVERRIDE_SECRET');

/**
 * `POST /override-link`: a signed link, valid for `ttlSeconds`, that pins the browser opening it
 * to a cohort (QA of the canary at 0 %, or of stable during a ramp).
 */
export function overrideLinkHandler(deps: ControlDeps): Handler<AdminEnv> {
  const tokens = deps.settings.OVERRIDE_SECRET ? overrideTokens(deps.settings.OVERRIDE_SECRET) : undefined;
  const openPath = `${deps.settings.ADMIN_PREFIX}/override`;
  return async function createOverrideLink(c) {
    if (!tokens) throw disabled();
    const body = await readJsonBody(c.req.raw, OverrideLinkBodySchema, { required: true });
    const expiresAt = Math.floor(deps.clock.now() / 1000) + body.ttlSeconds;
    const token = await tokens.sign(body.cohort, expiresAt);
    deps.logger.info('override link created', { cohort: body.cohort, expiresAt, actor: c.get('actor') });
    const url = `${new URL(c.req.url).origin}${openPath}?token=${token}`;
    return c.json({ url, expiresAt: new Date(expiresAt * 1000).toISOString() });
  };
}

/**
 * `GET /override?token=…` (no credentials: the signature is the credential): sets the
 * `rollout_override` cookie for the token's remaining lifetime and redirects to `/`. A tampered
 * or expired token sets nothing.
 */
export function openOverrideHandler(deps: ControlDeps): Handler<AdminEnv> {
  const tokens = deps.settings.OVERRIDE_SECRET ? overrideTokens(deps.settings.OVERRIDE_SECRET) : undefined;
  return async function openOverrideLink(c) {
    if (!tokens) throw disabled();
    const query = OverrideQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new AdminError(400, 'invalid override link', describeIssues(query.error));
    const now = deps.clock.now();
    const override = await tokens.verify(query.data.token, now);
    if (!override) throw new AdminError(403, 'invalid or expired override link');
    const maxAge = Math.max(1, override.expiresAt - Math.floor(now / 1000));
    return new Response(null, {
      status: 302,
      headers: {
        location: '/',
        'cache-control': 'no-store',
        'set-cookie': `${OVERRIDE_COOKIE}=${query.data.token}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Lax`,
      },
    });
  };
}

import type { Handler } from 'hono';
import { OverrideLinkBodySchema, OverrideQuerySchema } from '../../../src/admin/admin-schemas';
import { OVERRIDE_COOKIE, overrideTokens, type FlagPins } from '../../../src/admin/override-token';
import type { RolloutConfig } from '../../../src/config/config-schema';
import { isTypedFlag } from '../../../src/config/flag-schema';
import { describeIssues } from '../../../src/config/parse-config';
import type { ControlDeps } from '../control-deps';
import { AdminError, readJsonBody, type AdminEnv } from './admin-http';

const disabled = () => new AdminError(503, 'override links disabled: set OVERRIDE_SECRET');

/**
 * `POST /override-link`: a signed link, valid for `ttlSeconds`, that pins the browser opening it
 * to a cohort (QA of the canary at 0 %, or of stable during a ramp) and, with `flags`, pins flags
 * to named variants (QA sees flagged features before they go live). Each pinned flag and variant
 * must be in the current config: a typo is a 400 naming what is there. Creating a link is
 * audited through the control plane (action `override-link`, with what it pins and until when);
 * opening it is answered by the edge, which never calls the control plane for it.
 */
export function overrideLinkHandler(deps: ControlDeps): Handler<AdminEnv> {
  const tokens = deps.settings.OVERRIDE_SECRET ? overrideTokens(deps.settings.OVERRIDE_SECRET) : undefined;
  const openPath = `${deps.settings.ADMIN_PREFIX}/override`;
  return async function createOverrideLink(c) {
    if (!tokens) throw disabled();
    const body = await readJsonBody(c.req.raw, OverrideLinkBodySchema, { required: true });
    if (body.flags) {
      const state = await deps.control.state();
      if ('ok' in state)
        throw new AdminError(state.status, state.error, state.issues, state.retryAfterSeconds);
      const issues = pinIssues(state.config, body.flags);
      if (issues.length) throw new AdminError(400, 'invalid flag pins', issues);
    }
    const now = deps.clock.now();
    const expiresAt = Math.floor(now / 1000) + body.ttlSeconds;
    const token = await tokens.sign(body.cohort, expiresAt, body.flags);
    const expiry = new Date(expiresAt * 1000).toISOString();
    const pinned = { cohort: body.cohort, ...(body.flags ? { flags: body.flags } : {}), expiresAt: expiry };
    const audited = await deps.control.recordAudit(
      {
        action: 'override-link',
        before: null,
        after: pinned,
        ...(body.reason ? { reason: body.reason } : {}),
      },
      { actor: c.get('actor'), now },
    );
    // No audit entry, no link: an unrecorded link is what auditing them is meant to prevent.
    if (!audited.ok)
      throw new AdminError(audited.status, audited.error, audited.issues, audited.retryAfterSeconds);
    deps.logger.info('override link created', { ...pinned, actor: c.get('actor'), audit: audited.id });
    const url = `${new URL(c.req.url).origin}${openPath}?token=${token}`;
    return c.json({ url, ...pinned, auditId: audited.id });
  };
}

/**
 * Why these pins cannot be signed against this config: a flag it does not have, or a variant
 * the flag does not have (`on`/`off` for a boolean flag), each naming what there is.
 */
export function pinIssues(config: RolloutConfig, pins: FlagPins): string[] {
  const issues: string[] = [];
  const names = Object.keys(config.flags);
  for (const [name, variant] of Object.entries(pins)) {
    const flag = Object.hasOwn(config.flags, name) ? config.flags[name] : undefined;
    if (!flag) {
      const near = names.find((known) => known.toLowerCase() === name.toLowerCase());
      issues.push(
        `flags.${name}: no such flag${near ? ` (did you mean "${near}"?)` : ''}; known: ${names.join(', ') || 'none'}`,
      );
      continue;
    }
    const variants = isTypedFlag(flag) ? Object.keys(flag.variants) : ['on', 'off'];
    if (!variants.includes(variant))
      issues.push(`flags.${name}: no variant "${variant}"; it has ${variants.join(', ')}`);
  }
  return issues;
}

/**
 * `GET /override?token=…` (no credentials: the signature is the credential): sets the
 * `rollout_override` cookie for the token's remaining lifetime and redirects to `/`. A tampered
 * or expired token sets nothing. On the app's host the edge answers this path itself
 * (worker/edge/visitor-page.ts), so a use is a data point there; this one serves an edge one
 * version back, which still forwards it.
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

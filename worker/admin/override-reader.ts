import { OVERRIDE_COOKIE, overrideTokens } from '../../src/admin/override-token';
import type { Cohort } from '../../src/cohort/assign-cohort';
import { readCookie } from '../../src/identity/cookies';
import type { Clock } from '../../src/ports/clock';

/**
 * Builds `deps.readOverride`: the cohort pinned by a valid `rollout_override` cookie. A missing,
 * tampered or expired cookie is ignored (the visitor is split as usual); without OVERRIDE_SECRET
 * overrides are off. Requests without the cookie cost one cookie lookup, no crypto.
 *
 * @example
 * const readOverride = overrideReader(settings.OVERRIDE_SECRET, systemClock);
 * await readOverride(request); // 'canary' | 'stable' | undefined
 */
export function overrideReader(
  secret: string | undefined,
  clock: Clock,
): (request: Request) => Promise<Cohort | undefined> {
  if (!secret) return async () => undefined;
  const tokens = overrideTokens(secret);
  return async function readOverride(request) {
    const token = readCookie(request.headers.get('cookie'), OVERRIDE_COOKIE);
    if (!token) return undefined;
    return (await tokens.verify(token, clock.now()))?.cohort;
  };
}

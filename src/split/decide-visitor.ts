import { assignCohort, type Cohort, type CohortAssignment } from '../cohort/assign-cohort';
import { evaluateFlags, flagValues, type FlagResult } from '../flags/evaluate-flags';
import { readCookie, visitorCookie } from '../identity/cookies';
import { isValidIdentityValue, isValidVisitorId, newVisitorId } from '../identity/visitor-id';
import type { ConfigSnapshot } from '../ports/config-store';

/** Everything the splitter decided about one visitor. */
export interface VisitorDecision {
  /** The id that was hashed (the identity header's value, or the cookie's id). */
  routingId: string;
  /** A `Set-Cookie` for a freshly issued visitor id, when the cookie was absent or invalid. */
  setCookie?: string;
  assignment: CohortAssignment;
  flags: Record<string, FlagResult>;
  flagValues: Record<string, boolean>;
}

/**
 * Decides a visitor's cohort and flags from the request headers and the current config.
 * A missing or hostile cookie gets a fresh id; an identity header, when configured and valid,
 * takes precedence so a signed-in user keeps the same cohort on every device.
 *
 * @example
 * const decision = decideVisitor(request.headers, await store.read());
 */
export function decideVisitor(
  headers: Headers,
  snapshot: ConfigSnapshot,
  override?: Cohort,
): VisitorDecision {
  const { config, kill } = snapshot;
  const { cookieName, maxAgeSeconds, identityHeader } = config.stickiness;
  let cookieId = readCookie(headers.get('cookie'), cookieName);
  let setCookie: string | undefined;
  if (!isValidVisitorId(cookieId)) {
    cookieId = newVisitorId();
    setCookie = visitorCookie(cookieName, cookieId, maxAgeSeconds);
  }
  const identity = identityHeader ? headers.get(identityHeader) : null;
  const routingId = isValidIdentityValue(identity) ? identity : cookieId;
  const assignment = assignCohort({
    visitorId: routingId,
    percent: config.rollout.percent,
    salt: config.rollout.salt,
    state: config.rollout.state,
    killed: kill.canary,
    override,
  });
  const flags = evaluateFlags(config.flags, routingId, kill);
  return { routingId, setCookie, assignment, flags, flagValues: flagValues(flags) };
}

import { COHORT_HEADER, isRolloutHeader } from '../headers/rollout-headers';
import { isReplayable } from './failover-policy';
import { originTarget } from './origin-target';

// Unverifiable forwarding headers are dropped here too, as on the normal path.
const DROPPED = new Set(['host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded']);

/**
 * The last resort when the splitter itself failed (a bug, never a bad input): a GET or HEAD goes
 * to stable as plainly as possible, so a defect in edge-rollout costs the visitor nothing. Other
 * methods are not retried: the canary may already have acted on them.
 *
 * @example
 * const fallback = failOpenRequest(request, stableOrigin);
 * if (fallback) return fetch(fallback.url, fallback.init);
 */
export function failOpenRequest(
  request: Request,
  stableOrigin: string,
): { url: string; init: RequestInit } | undefined {
  if (!isReplayable(request.method)) return undefined;
  const headers = new Headers();
  for (const [name, value] of request.headers)
    if (!isRolloutHeader(name) && !DROPPED.has(name)) headers.append(name, value);
  headers.set(COHORT_HEADER, 'stable');
  const init: RequestInit = { method: request.method, headers, redirect: 'manual' };
  return { url: originTarget(new URL(request.url), stableOrigin), init };
}

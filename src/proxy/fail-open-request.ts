import { COHORT_HEADER, isRolloutHeader } from '../headers/rollout-headers';
import { originTarget } from './origin-target';

/**
 * The last resort when the splitter itself failed (a bug, never a bad input): the request goes
 * to stable as plainly as possible, so a defect in edge-rollout costs the visitor nothing. Only
 * possible while the request body is unread.
 *
 * @example
 * const fallback = failOpenRequest(request, settings.STABLE_ORIGIN);
 * if (fallback) return fetch(fallback.url, fallback.init);
 */
export function failOpenRequest(
  request: Request,
  stableOrigin: string,
): { url: string; init: RequestInit } | undefined {
  if (request.bodyUsed) return undefined;
  const headers = new Headers();
  for (const [name, value] of request.headers)
    if (!isRolloutHeader(name) && name !== 'host') headers.append(name, value);
  headers.set(COHORT_HEADER, 'stable');
  const init: RequestInit = { method: request.method, headers, body: request.body, redirect: 'manual' };
  return { url: originTarget(new URL(request.url), stableOrigin), init };
}

import { COHORT_HEADER } from '../headers/rollout-headers';
import type { ProxyOutcome } from './proxy-to-origin';

/**
 * The answer when the serving origin gave no response: 504 for a timeout, 502 otherwise, with a
 * body that names the cohort and the upstream so that ops can tell at once what failed. The
 * runtime's own error text stays in the logs: it is for ops, not for visitors.
 *
 * @example
 * upstreamFailureResponse({ cohort: 'canary', error: 'connection refused', timedOut: false, upstream: '127.0.0.1:8702' });
 */
export function upstreamFailureResponse(failure: NonNullable<ProxyOutcome['failure']>): Response {
  const status = failure.timedOut ? 504 : 502;
  const body = {
    error: failure.timedOut ? 'upstream timeout' : 'upstream unavailable',
    cohort: failure.cohort,
    upstream: failure.upstream,
  };
  return Response.json(body, {
    status,
    headers: { [COHORT_HEADER]: failure.cohort, 'cache-control': 'no-store' },
  });
}

import { buildOriginRequestHeaders } from '../headers/origin-request-headers';
import { isReplayable } from './failover-policy';
import { originTarget } from './origin-target';

/**
 * The last resort when the splitter itself failed (a bug, never a bad input): a GET or HEAD goes
 * to stable under the usual header policy, with no flags, so a defect in edge-rollout costs the
 * visitor nothing. Other methods are not retried: the canary may already have acted on them.
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
  const publicUrl = new URL(request.url);
  const headers = buildOriginRequestHeaders(request.headers, {
    cohort: 'stable',
    flags: {},
    publicUrl,
    visitorIp: request.headers.get('cf-connecting-ip'),
    webSocket: false,
  });
  return {
    url: originTarget(publicUrl, stableOrigin),
    init: { method: request.method, headers, redirect: 'manual' },
  };
}

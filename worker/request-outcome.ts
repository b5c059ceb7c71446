import type { RequestOutcome } from '../src/metrics/request-metric';
import type { ProxyOutcome } from '../src/proxy/proxy-to-origin';

/**
 * Classifies a proxied request for metrics: a failover is its own outcome (the visitor was
 * served, but the canary failed); otherwise 5xx or no response is an error.
 */
export function requestOutcome(outcome: ProxyOutcome, status: number): RequestOutcome {
  if (outcome.failover) return 'failover';
  return outcome.response === undefined || status >= 500 ? 'error' : 'ok';
}

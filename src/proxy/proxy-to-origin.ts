import type { Cohort } from '../cohort/assign-cohort';
import type { Clock } from '../ports/clock';
import { isFailoverStatus, isReplayable } from './failover-policy';
import { fetchUpstream, type FetchFunction, type UpstreamResult } from './fetch-upstream';
import { originTarget } from './origin-target';

/** What to send where. */
export interface ProxyPlan {
  request: Request;
  publicUrl: URL;
  cohort: Cohort;
  origins: Readonly<Record<Cohort, string>>;
  /** Origin request headers for a cohort (the cohort header differs after a failover). */
  headersFor(cohort: Cohort): Headers;
  failoverStatuses: readonly number[];
  timeoutMs: number;
}

/** What happened upstream. */
export interface ProxyOutcome {
  /** The origin's response, or undefined when the serving origin gave none. */
  response?: Response;
  servedBy: Cohort;
  failover: boolean;
  upstreamMs: number;
  /** The last upstream failure, if the served cohort failed too. */
  failure?: { cohort: Cohort; error: string; timedOut: boolean; upstream: string };
}

/**
 * Proxies a request to its cohort's origin. A replayable (GET/HEAD) canary attempt that fails
 * (network error, timeout or a failover status) is replayed on stable, so the visitor never sees
 * it. A request with a body is streamed once and never replayed.
 */
export async function proxyToOrigin(
  plan: ProxyPlan,
  fetchFn: FetchFunction,
  clock: Clock,
): Promise<ProxyOutcome> {
  const first = await attempt(plan, plan.cohort, fetchFn, clock);
  const canFailover = plan.cohort === 'canary' && isReplayable(plan.request.method);
  if (!canFailover || !failed(first, plan.failoverStatuses))
    return outcome(plan, plan.cohort, first, false, first.ms);

  if (first.kind === 'response') await first.response.body?.cancel();
  const second = await attempt(plan, 'stable', fetchFn, clock);
  return outcome(plan, 'stable', second, true, first.ms + second.ms);
}

function attempt(
  plan: ProxyPlan,
  cohort: Cohort,
  fetchFn: FetchFunction,
  clock: Clock,
): Promise<UpstreamResult> {
  const hasBody = !isReplayable(plan.request.method) && plan.request.body !== null;
  const init: RequestInit = {
    method: plan.request.method,
    headers: plan.headersFor(cohort),
    body: hasBody ? plan.request.body : null,
  };
  return fetchUpstream(
    fetchFn,
    originTarget(plan.publicUrl, plan.origins[cohort]),
    init,
    plan.timeoutMs,
    clock,
  );
}

function failed(result: UpstreamResult, statuses: readonly number[]): boolean {
  return result.kind === 'failure' || isFailoverStatus(result.response.status, statuses);
}

function outcome(
  plan: ProxyPlan,
  cohort: Cohort,
  result: UpstreamResult,
  failover: boolean,
  upstreamMs: number,
): ProxyOutcome {
  if (result.kind === 'response')
    return { response: result.response, servedBy: cohort, failover, upstreamMs };
  const upstream = new URL(plan.origins[cohort]).host;
  return {
    servedBy: cohort,
    failover,
    upstreamMs,
    failure: { cohort, error: result.error, timedOut: result.timedOut, upstream },
  };
}

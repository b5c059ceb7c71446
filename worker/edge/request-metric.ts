import type { RequestOutcome } from '../../src/metrics/data-point-schema';
import { classifyRoute } from '../../src/metrics/business-routes';
import type { ConfigSnapshot } from '../../src/ports';
import type { ProxyOutcome } from '../../src/proxy/proxy-to-origin';
import type { Cohort } from '../../src/split/decide-visitor';
import type { EdgeDeps, WaitUntil } from './edge-deps';

/**
 * The splitter's one data point per request: what it records, how the request is classified, and
 * how the write is kept off the visitor's wait.
 */

/**
 * Hands work to the request's `waitUntil`; without an execution context (the app called outside
 * a Worker) the work still runs, it is simply not awaited.
 */
export function waitUntilOf(ctx: { waitUntil(promise: Promise<unknown>): void } | undefined): WaitUntil {
  return (promise) => {
    try {
      ctx?.waitUntil(promise);
    } catch {
      // As above: nothing keeps the isolate alive for it.
    }
  };
}

export interface MetricInput {
  started: number;
  /** What the origins did; undefined when nothing was sent. */
  served: ProxyOutcome | undefined;
  assignedCohort: Cohort;
  snapshot: ConfigSnapshot;
  status: number;
  outcome: RequestOutcome;
  method: string;
  pathname: string;
  /** A fixed route name (e.g. `override` for an override link's use); else classified from the path. */
  route?: string;
}

/**
 * Records one data point. The time is taken now; classifying the business route and writing the
 * point wait until the response has been handed back (a timer inside `waitUntil`), so neither
 * adds to the visitor's wait.
 */
export function recordMetric(
  deps: Pick<EdgeDeps, 'clock' | 'metrics' | 'logger' | 'workerVersion'>,
  request: Request,
  waitUntil: WaitUntil,
  input: MetricInput,
): void {
  // Time spent waiting for the visitor's own body bytes is the visitor's pace, not the cohort's latency.
  const clientMs = input.served?.clientMs ?? 0;
  const totalMs = Math.max(0, deps.clock.now() - input.started - clientMs);
  const write = () => {
    try {
      const cf = (request as { cf?: { colo?: unknown; country?: unknown } }).cf;
      const classified =
        input.route !== undefined
          ? { route: input.route, routeSuccess: undefined }
          : classifyRoute(input.snapshot.config, input.method, input.pathname, input.status);
      // A request the visitor broke says nothing about the route's success on either cohort.
      const business =
        input.outcome === 'client' ? { route: classified.route, routeSuccess: undefined } : classified;
      deps.metrics.record({
        cohort: input.served?.servedBy ?? input.assignedCohort,
        assignedCohort: input.assignedCohort,
        configVersion: input.snapshot.config.version,
        workerVersion: deps.workerVersion,
        method: input.method,
        route: business.route,
        routeSuccess: business.routeSuccess,
        status: input.status,
        outcome: input.outcome,
        colo: typeof cf?.colo === 'string' ? cf.colo : 'local',
        country: typeof cf?.country === 'string' ? cf.country : 'XX',
        totalMs,
        upstreamMs: Math.max(0, (input.served?.upstreamMs ?? 0) - clientMs),
        failover: input.served?.failover ?? false,
      });
    } catch (error) {
      // Metrics are best effort: a broken sink must never cost the visitor a response.
      deps.logger.warn('metrics sink failed', { error: String(error) });
    }
  };
  waitUntil(new Promise<void>((resolve) => setTimeout(resolve, 0)).then(write));
}

/**
 * Classifies a proxied request for metrics: a failure the visitor caused (its upload broke, was
 * short, or the origin gave up waiting for it) is `client`, counted against no cohort; a failover
 * is its own outcome (the visitor was served, but the canary failed); otherwise 5xx or no
 * response is an error.
 */
export function requestOutcome(outcome: ProxyOutcome, status: number): RequestOutcome {
  if (outcome.failure?.byClient) return 'client';
  if (outcome.failover) return 'failover';
  return outcome.response === undefined || status >= 500 ? 'error' : 'ok';
}

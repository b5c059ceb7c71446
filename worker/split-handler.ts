import type { Context } from 'hono';
import type { RequestOutcome } from '../src/metrics/data-point-schema';
import { classifyRoute } from '../src/metrics/business-routes';
import type { ConfigSnapshot, ErrorReporter } from '../src/ports';
import {
  buildClientResponseHeaders,
  buildOriginRequestHeaders,
  COHORT_HEADER,
} from '../src/proxy/header-policy';
import {
  failOpenRequest,
  proxyToOrigin,
  upstreamFailureResponse,
  type ProxyOutcome,
} from '../src/proxy/proxy-to-origin';
import { decideVisitor, type Cohort, type VisitorDecision } from '../src/split/decide-visitor';
import type { AppDeps } from './app';
import { failoverWarning } from './sentry/sentry-policy';

/**
 * The splitter: decides the visitor's cohort and flags, proxies to that origin (with failover
 * to stable for GET/HEAD), and records one metric per request off the response path.
 * Exceptions in our own code are reported (tagged with what was known: config version, cohort)
 * and the request fails open to stable; canary failovers become rate-limited warnings.
 */
export function splitHandler(deps: AppDeps) {
  const warnFailover = failoverWarning(deps.clock);
  async function proxied(
    c: Context,
    reporter: ErrorReporter,
    tags: Record<string, string>,
  ): Promise<Response> {
    const started = deps.clock.now();
    const request = c.req.raw;
    const publicUrl = new URL(request.url);
    const snapshot = await deps.store.read();
    tags.config_version = String(snapshot.config.version);
    const decision = decideVisitor(request.headers, snapshot, await deps.readOverride(request));
    tags.cohort = decision.assignment.cohort;
    const origins: Record<Cohort, string> = {
      stable: snapshot.config.origins?.stable ?? deps.settings.STABLE_ORIGIN,
      canary: snapshot.config.origins?.canary ?? deps.settings.CANARY_ORIGIN,
    };
    const webSocket = request.headers.get('upgrade')?.toLowerCase() === 'websocket';
    const visitorIp = request.headers.get('cf-connecting-ip');
    const outcome = await proxyToOrigin(
      {
        request,
        publicUrl,
        cohort: decision.assignment.cohort,
        origins,
        headersFor: (cohort) =>
          buildOriginRequestHeaders(request.headers, {
            cohort,
            flags: decision.flagValues,
            publicUrl,
            visitorIp,
            webSocket,
          }),
        failoverStatuses: snapshot.config.failover.statuses,
        timeoutMs: snapshot.config.failover.timeoutMs,
      },
      deps.fetch,
      deps.clock,
    );
    if (outcome.failure) deps.logger.warn('upstream failed', { ...outcome.failure, method: request.method });
    const response = clientResponse(outcome, decision, snapshot, origins, publicUrl);
    if (outcome.failover) warnFailover(reporter, { tags: { ...tags }, extra: { path: publicUrl.pathname } });
    recordMetric(deps, c, {
      started,
      outcome,
      decision,
      snapshot,
      status: response.status,
      method: request.method,
      pathname: publicUrl.pathname,
    });
    return response;
  }
  return async function split(c: Context): Promise<Response> {
    const reporter = deps.errorReporterFor(c.req.raw, waitUntilOf(c));
    const tags: Record<string, string> = {};
    try {
      return await proxied(c, reporter, tags);
    } catch (error) {
      reporter.captureException(error, { tags });
      deps.logger.error('splitter failed; serving stable directly', { error: String(error) });
      const { config } = await deps.store.read();
      const fallback = failOpenRequest(c.req.raw, config.origins?.stable ?? deps.settings.STABLE_ORIGIN);
      if (!fallback) throw error;
      const upstream = await deps.fetch(fallback.url, fallback.init);
      const response = new Response(upstream.body, upstream);
      response.headers.set(COHORT_HEADER, 'stable');
      return response;
    }
  };
}

function waitUntilOf(c: Context): (promise: Promise<unknown>) => void {
  return (promise) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      // No execution context (the app called outside a Worker): the send is simply not awaited.
    }
  };
}

function clientResponse(
  outcome: ProxyOutcome,
  decision: VisitorDecision,
  snapshot: ConfigSnapshot,
  origins: Record<Cohort, string>,
  publicUrl: URL,
): Response {
  if (!outcome.response) {
    const failure = upstreamFailureResponse(outcome.failure!);
    if (decision.setCookie) failure.headers.append('set-cookie', decision.setCookie);
    return failure;
  }
  // A WebSocket handshake response carries the socket itself; only our own headers are added.
  if (outcome.response.status === 101) {
    const headers = new Headers(outcome.response.headers);
    headers.set(COHORT_HEADER, outcome.servedBy);
    if (decision.setCookie) headers.append('set-cookie', decision.setCookie);
    return new Response(null, { status: 101, webSocket: outcome.response.webSocket, headers });
  }
  const headers = buildClientResponseHeaders(outcome.response.headers, {
    cohort: outcome.servedBy,
    setCookie: decision.setCookie,
    originBases: [origins.stable, origins.canary],
    publicOrigin: publicUrl.origin,
  });
  const response = new Response(outcome.response.body, {
    status: outcome.response.status,
    statusText: outcome.response.statusText,
    headers,
  });
  return snapshot.config.bootstrapFlags ? injectFlagsBootstrap(response, decision.flagValues) : response;
}

interface MetricInput {
  started: number;
  outcome: ProxyOutcome;
  decision: VisitorDecision;
  snapshot: ConfigSnapshot;
  status: number;
  method: string;
  pathname: string;
}

function recordMetric(deps: AppDeps, c: Context, input: MetricInput): void {
  const cf = (c.req.raw as { cf?: { colo?: unknown; country?: unknown } }).cf;
  try {
    const business = classifyRoute(input.snapshot.config, input.method, input.pathname, input.status);
    deps.metrics.record({
      cohort: input.outcome.servedBy,
      assignedCohort: input.decision.assignment.cohort,
      configVersion: input.snapshot.config.version,
      workerVersion: deps.workerVersion,
      method: input.method,
      route: business.route,
      routeSuccess: business.routeSuccess,
      status: input.status,
      outcome: requestOutcome(input.outcome, input.status),
      colo: typeof cf?.colo === 'string' ? cf.colo : 'local',
      country: typeof cf?.country === 'string' ? cf.country : 'XX',
      totalMs: deps.clock.now() - input.started,
      upstreamMs: input.outcome.upstreamMs,
      failover: input.outcome.failover,
    });
  } catch (error) {
    // Metrics are best effort: a broken sink must never cost the visitor a response.
    deps.logger.warn('metrics sink failed', { error: String(error) });
  }
}

/**
 * Classifies a proxied request for metrics: a failover is its own outcome (the visitor was
 * served, but the canary failed); otherwise 5xx or no response is an error.
 */
function requestOutcome(outcome: ProxyOutcome, status: number): RequestOutcome {
  if (outcome.failover) return 'failover';
  return outcome.response === undefined || status >= 500 ? 'error' : 'ok';
}

/**
 * Serializes flags for an inline script. JSON alone is not safe inside `<script>`: `</script>`,
 * `<!--` and U+2028/2029 could break out or break parsing, so those characters are escaped.
 *
 * @example
 * flagsScript({ a: true }); // '<script>window.__FLAGS__={"a":true}</script>'
 */
export function flagsScript(flags: Readonly<Record<string, boolean>>): string {
  const json = JSON.stringify(flags).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `<script>window.__FLAGS__=${json}</script>`;
}

/** Injects the flags bootstrap at the start of `<head>` of an HTML response, streaming. */
function injectFlagsBootstrap(response: Response, flags: Readonly<Record<string, boolean>>): Response {
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('text/html') || response.body === null) return response;
  const script = flagsScript(flags);
  return new HTMLRewriter()
    .on('head', {
      element(head) {
        head.prepend(script, { html: true });
      },
    })
    .transform(response);
}

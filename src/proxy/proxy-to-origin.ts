import type { Clock } from '../ports';
import type { Cohort } from '../split/decide-visitor';
import { COHORT_HEADER, parseOrigin, type PublicUrl } from './origin-request-headers';
import { declaredLength, startUpload, type FixedLengthStreamFactory, type Upload } from './upload-body';

/**
 * One request to its cohort's origin, with failover to stable for GET/HEAD, a deadline on the
 * response headers (started once the request body, if any, has been fully read), and the answers
 * for when no origin answered, the visitor broke its own request, or edge-rollout itself failed.
 */

/** What to send where. */
export interface ProxyPlan {
  request: Request;
  publicUrl: PublicUrl;
  cohort: Cohort;
  origins: Readonly<Record<Cohort, string>>;
  /** Origin request headers for a cohort (the cohort header differs after a failover). */
  headersFor(cohort: Cohort): Headers;
  failoverStatuses: readonly number[];
  /** The response deadline: it starts when the request body has been fully read (at once without one). */
  timeoutMs: number;
  /** The runtime's `FixedLengthStream`, so that a body with a `Content-Length` keeps it upstream. */
  fixedLengthStream?: FixedLengthStreamFactory;
}

/** What happened upstream. */
export interface ProxyOutcome {
  /** The origin's response, or undefined when the serving origin gave none. */
  response?: Response;
  servedBy: Cohort;
  failover: boolean;
  upstreamMs: number;
  /** Of the time upstream, how long was spent waiting for the visitor's own body bytes. */
  clientMs: number;
  /**
   * The last upstream failure, if the served cohort failed too (`upstream` is for the logs only).
   * `byClient` when the visitor caused it: its body broke, or the origin gave up while waiting for it.
   */
  failure?: { cohort: Cohort; error: string; timedOut: boolean; upstream: string; byClient?: boolean };
}

/** The `fetch` function the proxy uses (the runtime's, or a test's). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** A response from the origin, or why none came. */
export type UpstreamResult =
  | { kind: 'response'; response: Response; ms: number; clientMs: number }
  | { kind: 'failure'; error: string; timedOut: boolean; ms: number; clientMs: number; byClient: boolean };

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
    return outcome(plan, plan.cohort, first, false, first.ms, first.clientMs);

  if (first.kind === 'response') await first.response.body?.cancel();
  const second = await attempt(plan, 'stable', fetchFn, clock);
  return outcome(plan, 'stable', second, true, first.ms + second.ms, 0);
}

function attempt(
  plan: ProxyPlan,
  cohort: Cohort,
  fetchFn: FetchFunction,
  clock: Clock,
): Promise<UpstreamResult> {
  const hasBody = !isReplayable(plan.request.method) && plan.request.body !== null;
  const upload = hasBody
    ? startUpload(plan.request.body!, declaredLength(plan.request.headers), clock, plan.fixedLengthStream)
    : undefined;
  const init: RequestInit = {
    method: plan.request.method,
    headers: plan.headersFor(cohort),
    body: upload?.body ?? null,
    redirect: 'manual',
  };
  return fetchUpstream(
    fetchFn,
    originTarget(plan.publicUrl, plan.origins[cohort]),
    init,
    plan.timeoutMs,
    clock,
    upload,
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
  clientMs: number,
): ProxyOutcome {
  if (result.kind === 'response')
    return { response: result.response, servedBy: cohort, failover, upstreamMs, clientMs };
  const upstream = new URL(plan.origins[cohort]).host;
  const failure = { cohort, error: result.error, timedOut: result.timedOut, upstream };
  return {
    servedBy: cohort,
    failover,
    upstreamMs,
    clientMs,
    failure: result.byClient ? { ...failure, byClient: true } : failure,
  };
}

/**
 * Sends one request upstream with a deadline on the response headers. The deadline starts when
 * the request body has been fully read (at once for a request without one): while the visitor is
 * still sending, a slow upload is the visitor's pace, not an origin fault, and nothing could be
 * replayed anyway. The timer is cleared once the headers arrive, so a slow but healthy response
 * body (a large download, a long HTML page passing through the flags bootstrap) is never cut off:
 * a signal such as `AbortSignal.timeout` would stay attached to the body and abort it mid-stream.
 * A failure is the visitor's (`byClient`) when its body broke, or when the origin gave up while we
 * were waiting for the visitor's bytes (the origin's own upload timeout). An interim 1xx other
 * than 101 (the origin answering an `Expect` the runtime did not strip), or a 101 that carries no
 * WebSocket, is a failure: no client response can be built from it.
 */
async function fetchUpstream(
  fetchFn: FetchFunction,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  clock: Clock,
  upload?: Upload,
): Promise<UpstreamResult> {
  const started = clock.now();
  const controller = new AbortController();
  let timedOut = false;
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const startDeadline = () => {
    if (settled) return;
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`no response headers within ${timeoutMs} ms`));
    }, timeoutMs);
  };
  if (upload) void upload.finished.then(startDeadline);
  else startDeadline();
  init.signal = controller.signal;
  const clientMs = () => upload?.clientMs() ?? 0;
  try {
    const response = await fetchFn(url, init);
    // A 101 without a socket (a confused origin or middlebox) cannot be handed to a visitor: it
    // is the origin's fault, like a reset, never an exception of ours.
    if (response.status === 101 && (response as { webSocket?: unknown }).webSocket == null) {
      await response.body?.cancel();
      return {
        kind: 'failure',
        error: 'switching protocols (101) without a WebSocket',
        timedOut: false,
        ms: clock.now() - started,
        clientMs: clientMs(),
        byClient: false,
      };
    }
    if (response.status < 200 && response.status !== 101) {
      await response.body?.cancel();
      return {
        kind: 'failure',
        error: `interim response ${response.status}`,
        timedOut: false,
        ms: clock.now() - started,
        clientMs: clientMs(),
        byClient: false,
      };
    }
    return { kind: 'response', response, ms: clock.now() - started, clientMs: clientMs() };
  } catch (error) {
    // Read before awaiting anything: whose turn it was when the origin request failed.
    const byClient =
      upload !== undefined && (upload.clientFault() !== undefined || upload.waitingOn() === 'client');
    const message = timedOut
      ? `timeout ${timeoutMs} ms after the request was sent`
      : (upload?.clientFault() ?? String((error as Error)?.message ?? error));
    return {
      kind: 'failure',
      error: message,
      timedOut,
      ms: clock.now() - started,
      clientMs: clientMs(),
      byClient,
    };
  } finally {
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * The origin URL for a request: the origin base (which may carry a path prefix) plus the
 * request's path and query.
 *
 * @example
 * originTarget(new URL('https://app.example/a?b=1'), 'http://127.0.0.1:8702/v2');
 * // 'http://127.0.0.1:8702/v2/a?b=1'
 */
function originTarget(requestUrl: PublicUrl, originBase: string): string {
  const { origin, prefix } = parseOrigin(originBase);
  // A string, not a URL: fetch parses it once anyway, so building a URL here would parse twice.
  return `${origin}${prefix}${requestUrl.pathname}${requestUrl.search}`;
}

/** Methods whose canary attempt may be replayed on stable: they carry no body and are idempotent. */
const REPLAYABLE = new Set(['GET', 'HEAD']);

/**
 * Whether a request may be replayed after its canary attempt failed. Never for a request with a
 * body: it was streamed to the canary and cannot be sent again (and must not be applied twice).
 */
function isReplayable(method: string): boolean {
  return REPLAYABLE.has(method.toUpperCase());
}

/** Whether an upstream status is one of the configured failover statuses. */
function isFailoverStatus(status: number, statuses: readonly number[]): boolean {
  return statuses.includes(status);
}

/**
 * The answer when the serving origin gave no response: 400 when the visitor caused it (its body
 * broke or never finished: a 5xx would blame us or the origin), 504 for a timeout, 502 otherwise,
 * with a body that names the cohort. The upstream's name and the runtime's own error text stay in the
 * logs: they are for ops, and would tell any visitor where the origins are.
 */
export function upstreamFailureResponse(failure: NonNullable<ProxyOutcome['failure']>): Response {
  if (failure.byClient)
    return Response.json(
      { error: 'request body incomplete', cohort: failure.cohort },
      { status: 400, headers: { [COHORT_HEADER]: failure.cohort, 'cache-control': 'no-store' } },
    );
  const status = failure.timedOut ? 504 : 502;
  const body = {
    error: failure.timedOut ? 'upstream timeout' : 'upstream unavailable',
    cohort: failure.cohort,
  };
  return Response.json(body, {
    status,
    headers: { [COHORT_HEADER]: failure.cohort, 'cache-control': 'no-store' },
  });
}

/**
 * The last resort when the splitter itself failed (a bug, never a bad input): the plan that sends
 * the request to stable, with the same deadline and header policy as any request (the caller's
 * `headersFor` carries the flags' declared defaults), and no failover. Only when no origin has
 * been sent the request yet (`untouched`), whatever the method: once the canary was sent a POST,
 * it may already have acted on it, and even a GET must not reach the origins twice because of our
 * own defect (issue 21: a bootstrap that threw made every such GET hit both origins).
 *
 * @example
 * const plan = failOpenPlan({ request, publicUrl, origins, headersFor, timeoutMs }, untouched);
 * if (plan) outcome = await proxyToOrigin(plan, fetch, clock);
 */
export function failOpenPlan(
  plan: Omit<ProxyPlan, 'cohort' | 'failoverStatuses'>,
  untouched: boolean,
): ProxyPlan | undefined {
  if (!untouched) return undefined;
  if (plan.request.bodyUsed) return undefined;
  return { ...plan, cohort: 'stable', failoverStatuses: [] };
}

import type { ConfigSnapshot } from '../../src/ports';
import { applyClientResponsePolicy, isSharedCachePath } from '../../src/proxy/client-response-headers';
import { cspScriptNonce, flagsScript, rewritableCharset } from '../../src/proxy/flags-bootstrap';
import {
  buildOriginRequestHeaders,
  COHORT_HEADER,
  FLAGS_HEADER,
  parsePublicUrl,
  type PublicUrl,
} from '../../src/proxy/origin-request-headers';
import {
  failOpenPlan,
  proxyToOrigin,
  upstreamFailureResponse,
  type ProxyOutcome,
} from '../../src/proxy/proxy-to-origin';
import { prefixSpelling } from '../../src/proxy/path-spellings';
import { decideVisitor, type Cohort } from '../../src/split/decide-visitor';
import { declaredDefaults, type FlagValue } from '../../src/split/evaluate-flags';
import type { EdgeDeps, WaitUntil } from './edge-deps';
import { recordMetric, requestOutcome } from './request-metric';
import { failoverWarning } from '../shared/sentry/sentry-policy';

/** What the splitter needs: all of the edge's per-isolate deps. */
export type SplitDeps = EdgeDeps;

/**
 * The splitter: decides the visitor's cohort and flags, proxies to that origin (with failover
 * to stable for GET/HEAD), and records one metric per request off the response path.
 * Exceptions in our own code are reported (tagged with what was known: config version, cohort)
 * and the request fails open to stable, through the same proxy, header policy and metric as any
 * other; canary failovers become rate-limited warnings. Other spellings of the admin prefix are
 * answered here and never proxied.
 */
export function splitHandler(deps: SplitDeps) {
  const warnFailover = failoverWarning(deps.clock);
  const isAdminSpelling = prefixSpelling(deps.settings.ADMIN_PREFIX);
  const sharedPaths = deps.settings.SHARED_CACHE_PATHS;
  const originsOf = originsReader(deps.settings);
  /**
   * The origin fetch, marking the request as dispatched: from then on an origin may have seen it
   * (a POST may already have been acted on), so a defect after this point never sends it again.
   */
  const dispatchingFetch =
    (progress: SplitProgress): typeof deps.fetch =>
    (input, init) => {
      progress.dispatched = true;
      return deps.fetch(input, init);
    };

  /** What the visitor gets from an origin's outcome (or our own failure answer). */
  function respond(
    outcome: ProxyOutcome,
    visitor: VisitorSide,
    origins: Origins,
    publicUrl: PublicUrl,
  ): Response {
    if (!outcome.response) {
      const failure = upstreamFailureResponse(outcome.failure!);
      if (visitor.setCookie) failure.headers.append('set-cookie', visitor.setCookie);
      return failure;
    }
    // A WebSocket handshake response carries the socket itself; only our own headers are added.
    if (outcome.response.status === 101) {
      const headers = new Headers(outcome.response.headers);
      headers.set(COHORT_HEADER, outcome.servedBy);
      if (visitor.setCookie) headers.append('set-cookie', visitor.setCookie);
      return new Response(null, { status: 101, webSocket: outcome.response.webSocket, headers });
    }
    const injectsFlags =
      visitor.bootstrapFlags !== undefined &&
      isHtml(outcome.response) &&
      canRewrite(outcome.response, publicUrl);
    // The origin's response re-wrapped (status, status text and a mutable copy of its headers),
    // then edited in place: one copy of the header list instead of two.
    const response = new Response(outcome.response.body, outcome.response);
    applyClientResponsePolicy(response.headers, outcome.response.headers, {
      cohort: outcome.servedBy,
      setCookie: visitor.setCookie,
      originBases: origins.bases,
      servedOrigin: origins[outcome.servedBy],
      publicUrl,
      sharedPath: sharedPaths.length > 0 && isSharedCachePath(publicUrl.pathname, sharedPaths),
      injectsFlags,
    });
    return injectsFlags ? injectFlagsBootstrap(response, visitor.bootstrapFlags!) : response;
  }

  /**
   * Whether HTMLRewriter can read this page's charset; when it cannot (UTF-16, ISO-2022-JP, an
   * unknown label), the bootstrap is skipped and counted in the logs, and the page goes out as
   * the origin sent it: a throw here used to fail open and send the request to an origin again.
   */
  function canRewrite(response: Response, publicUrl: PublicUrl): boolean {
    const verdict = rewritableCharset(response.headers.get('content-type') ?? '');
    if (verdict.rewritable) return true;
    deps.logger.warn('flags bootstrap skipped: charset HTMLRewriter cannot rewrite', {
      charset: verdict.charset,
      path: publicUrl.pathname,
    });
    return false;
  }

  async function proxied(
    request: Request,
    waitUntil: WaitUntil,
    progress: SplitProgress,
    started: number,
    publicUrl: PublicUrl,
  ): Promise<Response> {
    // A fresh snapshot and a request without an override cookie are taken as they are: awaiting
    // nothing keeps two turns off the request path.
    const { tags } = progress;
    const snapshot = deps.store.current?.() ?? (await deps.store.read());
    tags.config_version = String(snapshot.config.version);
    if (snapshot.kill.bypass) return bypassed(request, waitUntil, progress, started, publicUrl, snapshot);
    const pendingOverride = deps.readOverride(request);
    const override = pendingOverride instanceof Promise ? await pendingOverride : pendingOverride;
    const decision = decideVisitor(request.headers, snapshot, override, {
      method: request.method,
      path: publicUrl.pathname,
      cf: request.cf,
    });
    tags.cohort = decision.assignment.cohort;
    const origins = originsOf(snapshot);
    const outcome = await proxyToOrigin(
      {
        request,
        publicUrl,
        cohort: decision.assignment.cohort,
        origins,
        headersFor: originHeaders(request, publicUrl, snapshot, decision.flagValues),
        failoverStatuses: snapshot.config.failover.statuses,
        timeoutMs: snapshot.config.failover.timeoutMs,
        fixedLengthStream,
      },
      dispatchingFetch(progress),
      deps.clock,
    );
    if (outcome.failure) deps.logger.warn('upstream failed', { ...outcome.failure, method: request.method });
    const visitor: VisitorSide = {
      setCookie: decision.setCookie,
      bootstrapFlags: snapshot.config.bootstrapFlags ? decision.flagValues : undefined,
    };
    let response: Response;
    try {
      response = respond(outcome, visitor, origins, publicUrl);
    } catch (error) {
      if (visitor.bootstrapFlags === undefined) throw error;
      // The bootstrap is an extra: when it fails, the origin's answer goes out without it.
      deps.errorReporterFor(request, waitUntil).captureException(error, { tags: { ...tags } });
      deps.logger.error('flags bootstrap failed; page served without it', { error: String(error) });
      response = respond(outcome, { setCookie: visitor.setCookie }, origins, publicUrl);
    }
    if (outcome.failover)
      warnFailover(deps.errorReporterFor(request, waitUntil), {
        tags: { ...tags },
        extra: { path: publicUrl.pathname },
      });
    recordMetric(deps, request, waitUntil, {
      started,
      served: outcome,
      assignedCohort: decision.assignment.cohort,
      snapshot,
      status: response.status,
      outcome: requestOutcome(outcome, response.status),
      method: request.method,
      pathname: publicUrl.pathname,
    });
    return response;
  }

  /**
   * Bypass mode (docs/KILL-SWITCH.md, "Bypass"): the request goes to stable as it came, as if
   * edge-rollout were not in the path. No visitor cookie is read or set, no override applies, no
   * flag is evaluated and no `x-feature-flags` header is sent: the app then runs on its own
   * defaults, exactly as it does with the Worker detached (`rollback.sh --detach`), so the two
   * exits look the same to it. What the edge always does still holds: client-sent `x-rollout-*`
   * and `x-feature-flags` headers are dropped, `x-rollout-cohort: stable` is set both ways, and
   * one data point is recorded. There is no failover: stable is the only origin.
   */
  async function bypassed(
    request: Request,
    waitUntil: WaitUntil,
    progress: SplitProgress,
    started: number,
    publicUrl: PublicUrl,
    snapshot: ConfigSnapshot,
  ): Promise<Response> {
    progress.tags.cohort = 'stable';
    progress.tags.bypass = 'on';
    const origins = originsOf(snapshot);
    const withFlags = originHeaders(request, publicUrl, snapshot, NO_FLAGS);
    const outcome = await proxyToOrigin(
      {
        request,
        publicUrl,
        cohort: 'stable',
        origins,
        headersFor: (cohort) => {
          const headers = withFlags(cohort);
          headers.delete(FLAGS_HEADER);
          return headers;
        },
        failoverStatuses: NO_FAILOVER,
        timeoutMs: snapshot.config.failover.timeoutMs,
        fixedLengthStream,
      },
      dispatchingFetch(progress),
      deps.clock,
    );
    if (outcome.failure) deps.logger.warn('upstream failed', { ...outcome.failure, method: request.method });
    const response = respond(outcome, {}, origins, publicUrl);
    recordMetric(deps, request, waitUntil, {
      started,
      served: outcome,
      assignedCohort: 'stable',
      snapshot,
      status: response.status,
      outcome: requestOutcome(outcome, response.status),
      method: request.method,
      pathname: publicUrl.pathname,
    });
    return response;
  }

  /**
   * The last resort after a defect in our own code: the request goes to stable with every flag at
   * its declared default, under the same deadline, header policy and metric as any request
   * (counted as an error of the visitor's assigned cohort, when it was known, so the guard sees
   * it). Only when the defect struck before any origin was sent the request: once an origin had
   * it, it may already have acted on it (a POST), and a GET must not reach the origins twice
   * because of our own defect; the visitor then gets a plain 502.
   */
  async function failOpen(
    request: Request,
    waitUntil: WaitUntil,
    error: unknown,
    progress: SplitProgress,
    started: number,
    publicUrl: PublicUrl,
  ): Promise<Response> {
    const { tags } = progress;
    const snapshot = await deps.store.read();
    const origins = originsOf(snapshot);
    const assignedCohort: Cohort = tags.cohort === 'canary' ? 'canary' : 'stable';
    const flags = declaredDefaults(snapshot.config.flags, snapshot.kill);
    const plan = failOpenPlan(
      {
        request,
        publicUrl,
        origins,
        headersFor: originHeaders(request, publicUrl, snapshot, flags),
        timeoutMs: snapshot.config.failover.timeoutMs,
        fixedLengthStream,
      },
      !progress.dispatched,
    );
    const metric = {
      started,
      assignedCohort,
      snapshot,
      method: request.method,
      pathname: publicUrl.pathname,
    };
    if (!plan) {
      recordMetric(deps, request, waitUntil, { ...metric, served: undefined, status: 502, outcome: 'error' });
      throw error;
    }
    const outcome = await proxyToOrigin(plan, deps.fetch, deps.clock);
    if (outcome.failure) deps.logger.warn('upstream failed', { ...outcome.failure, method: request.method });
    const response = respond(outcome, {}, origins, publicUrl);
    recordMetric(deps, request, waitUntil, {
      ...metric,
      served: outcome,
      status: response.status,
      outcome: 'error',
    });
    return response;
  }

  /** Origin request headers for a cohort, with these flags. */
  function originHeaders(
    request: Request,
    publicUrl: PublicUrl,
    snapshot: ConfigSnapshot,
    flags: Readonly<Record<string, FlagValue>>,
  ): (cohort: Cohort) => Headers {
    const webSocket = request.headers.get('upgrade')?.toLowerCase() === 'websocket';
    const visitorIp = request.headers.get('cf-connecting-ip');
    const identityHeader = snapshot.config.stickiness.identityHeader;
    return (cohort) =>
      buildOriginRequestHeaders(request.headers, {
        cohort,
        flags,
        publicUrl,
        visitorIp,
        webSocket,
        identityHeader,
      });
  }

  return async function split(
    request: Request,
    waitUntil: WaitUntil,
    publicUrl: PublicUrl = parsePublicUrl(request.url),
  ): Promise<Response> {
    if (isAdminSpelling(publicUrl.pathname)) return Response.json({ error: 'not found' }, { status: 404 });
    const started = deps.clock.now();
    const progress: SplitProgress = { tags: {}, dispatched: false };
    try {
      return await proxied(request, waitUntil, progress, started, publicUrl);
    } catch (error) {
      // A reporter is made only when there is something to report: most requests have nothing.
      deps.errorReporterFor(request, waitUntil).captureException(error, { tags: progress.tags });
      deps.logger.error('splitter failed; serving stable directly', { error: String(error) });
      return failOpen(request, waitUntil, error, progress, started, publicUrl);
    }
  };
}

const NO_FLAGS: Readonly<Record<string, FlagValue>> = Object.freeze({});
const NO_FAILOVER: readonly number[] = Object.freeze([]);

/** The runtime's stream that keeps a request body's `Content-Length` on its way to the origin. */
const fixedLengthStream = (length: number) => new FixedLengthStream(length);

/** How far a request got, for the error report and the fail-open answer. */
interface SplitProgress {
  /** What was known when it failed (config version, cohort): Sentry tags. */
  tags: Record<string, string>;
  /** Whether the request may have been sent to an origin. */
  dispatched: boolean;
}

/** Both origin base URLs, by cohort and as a list (made once per config, not per request). */
type Origins = Readonly<Record<Cohort, string>> & { readonly bases: readonly string[] };

/** What the response to a visitor carries for them: a fresh cookie, the flags to bootstrap. */
interface VisitorSide {
  setCookie?: string;
  /** The flag values to inject into HTML, when `bootstrapFlags` is on. */
  bootstrapFlags?: Readonly<Record<string, FlagValue>>;
}

/** The origins of a config (the Worker's vars where it names none), remembered for the last config. */
function originsReader(settings: EdgeDeps['settings']): (snapshot: ConfigSnapshot) => Origins {
  let last: { config: object; origins: Origins } | undefined;
  return function originsOf(snapshot) {
    if (last?.config === snapshot.config) return last.origins;
    const stable = snapshot.config.origins?.stable ?? settings.STABLE_ORIGIN;
    const canary = snapshot.config.origins?.canary ?? settings.CANARY_ORIGIN;
    last = { config: snapshot.config, origins: { stable, canary, bases: [stable, canary] } };
    return last.origins;
  };
}

function isHtml(response: Response): boolean {
  return (
    response.body !== null &&
    (response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/html')
  );
}

/**
 * A test for other spellings of the admin prefix (see {@link prefixSpelling}): they are forwarded
 * to the control Worker or answered, never proxied.
 *
 * @example
 * adminPrefixSpelling('/__rollout')('//__ROLLOUT;x/state'); // true
 */
export const adminPrefixSpelling = prefixSpelling;

/**
 * Injects the flags bootstrap at the start of `<head>` of an HTML response, streaming. The script
 * carries the nonce of the page's own `Content-Security-Policy`, when it has one.
 */
function injectFlagsBootstrap(response: Response, flags: Readonly<Record<string, FlagValue>>): Response {
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('text/html') || response.body === null) return response;
  const script = flagsScript(flags, cspScriptNonce(response.headers.get('content-security-policy')));
  return new HTMLRewriter()
    .on('head', {
      element(head) {
        head.prepend(script, { html: true });
      },
    })
    .transform(response);
}

import type { Settings } from '../../src/config/settings';
import { readLimitedText } from '../../src/encoding';
import {
  evaluateOfrepBulk,
  evaluateOfrepFlag,
  ifNoneMatchNames,
  ofrepEtag,
  type OfrepEvaluationOptions,
} from '../../src/ofrep/ofrep-answers';
import {
  evaluatesOwnVisitor,
  MAX_OFREP_BODY_BYTES,
  parseOfrepRequest,
  type OfrepRequest,
  type OfrepRequestError,
} from '../../src/ofrep/ofrep-request';
import type { ConfigSnapshot } from '../../src/ports';
import { decideVisitor, requestContext } from '../../src/split/decide-visitor';
import { bearerTokenCheck } from '../shared/secret-compare';
import type { EdgeDeps } from './edge-deps';

/** What the OFREP endpoints need from the app: the config store the splitter reads, and so on. */
export type OfrepDeps = Pick<EdgeDeps, 'settings' | 'store' | 'logger' | 'readOverride'>;

/**
 * Where the OFREP endpoints are mounted (`/ofrep`, or `<OFREP_BASE_PATH>/ofrep`), or undefined
 * when OFREP_BASE_PATH is `off`.
 *
 * @example
 * ofrepMountPath({ OFREP_BASE_PATH: '/edge' } as Settings); // '/edge/ofrep'
 */
export function ofrepMountPath(settings: Pick<Settings, 'OFREP_BASE_PATH'>): string | undefined {
  const base = settings.OFREP_BASE_PATH;
  if (base === 'off') return undefined;
  return base === '/' ? '/ofrep' : `${base}/ofrep`;
}

/** Answers one request under the OFREP mount path; `path` is the part after the mount. */
export type OfrepHandler = (request: Request, path: string) => Promise<Response>;

/** The routes, exactly: a path is one of these or a 404; a wrong method is a 405 naming the right one. */
const ROUTES = [
  { pattern: /^\/v1\/evaluate\/flags$/, allow: 'POST' },
  { pattern: /^\/v1\/evaluate\/flags\/([^/]+)$/, allow: 'POST' },
  { pattern: /^\/v1\/configuration$/, allow: 'GET, HEAD' },
  { pattern: /^\/flags$/, allow: 'GET, HEAD' },
] as const;

/**
 * The OpenFeature Remote Evaluation Protocol on the public host, plus a plain JSON flags route.
 * Every answer comes from the snapshot the splitter uses (`deps.store`) and the splitter's own
 * evaluation, so OpenFeature clients, `x-feature-flags` and `window.__FLAGS__` agree.
 *
 * - `POST /v1/evaluate/flags/:key`: one flag (`200`, `400`, `404 FLAG_NOT_FOUND`).
 * - `POST /v1/evaluate/flags`: every flag, with an `ETag`; `If-None-Match` naming it answers `304`
 *   (`*` names no tag: it gets the full answer).
 * - `GET /v1/configuration`: what the provider may assume (the types, the polling floor).
 * - `GET /flags`: the visitor's flags and cohort for their cookie, issuing one like the splitter.
 *
 * Four fixed routes need no router: the dispatch below is the whole table, and keeping a router
 * framework out of the edge keeps the front door's bundle small.
 *
 * @example
 * const ofrep = createOfrepHandler(deps);
 * await ofrep(request, '/v1/evaluate/flags'); // the part of the path after the mount
 */
export function createOfrepHandler(deps: OfrepDeps): OfrepHandler {
  const access = ofrepAccess(deps.settings);
  if (access.kind === 'closed') {
    // Once per isolate (the handler is built once): the reason goes to the logs, never to callers.
    deps.logger.error('OFREP is closed', { reason: access.reason });
    return async function ofrepClosed() {
      return new Response(null, { status: 403 });
    };
  }
  const gate = apiKeyGate(deps.settings.OFREP_API_KEY);
  const cors = browserAccess(deps.settings);
  const configuration = JSON.stringify({
    name: 'edge-rollout',
    capabilities: {
      // Polling faster than the config cache only re-reads the same snapshot.
      cacheInvalidation: {
        polling: { enabled: true, minPollingIntervalMs: deps.settings.CONFIG_CACHE_SECONDS * 1000 },
      },
      flagEvaluation: { supportedTypes: ['boolean', 'string', 'int', 'float', 'object'] },
    },
  });

  async function route(request: Request, path: string): Promise<Response> {
    const refused = await gate(request);
    if (refused) return refused;
    const index = ROUTES.findIndex(({ pattern }) => pattern.test(path));
    if (index < 0) return json({ errorDetails: 'no such OFREP endpoint' }, 404);
    const method = request.method;
    const { allow } = ROUTES[index]!;
    const reads = method === 'GET' || method === 'HEAD';
    if (allow === 'POST' ? method !== 'POST' : !reads)
      return json({ errorDetails: `method ${method.slice(0, 16)} not allowed; use ${allow}` }, 405, {
        allow: `${allow}, OPTIONS`,
      });
    const answer =
      index === 0
        ? await bulkEvaluation(request, deps)
        : index === 1
          ? await flagEvaluation(request, decodeSegment(ROUTES[1].pattern.exec(path)![1]!), deps)
          : index === 2
            ? new Response(configuration, { headers: { 'content-type': 'application/json' } })
            : await visitorFlags(request, deps);
    // A HEAD gets the GET's headers without its body.
    return method === 'HEAD' ? new Response(null, answer) : answer;
  }

  return async function ofrep(request, path) {
    return cors(request, async () => {
      try {
        return await route(request, path);
      } catch (error) {
        deps.logger.error('ofrep request failed', { error: String(error), path });
        return json({ errorDetails: 'edge-rollout could not evaluate this request' }, 500);
      }
    });
  };
}

async function bulkEvaluation(request: Request, deps: OfrepDeps): Promise<Response> {
  const read = await readRequest(request, deps);
  if (!read.ok) return json(read.error, 400);
  const options = await evaluationOptions(request, read, deps);
  const text = JSON.stringify(evaluateOfrepBulk(read.snapshot, read.request, options));
  const etag = await ofrepEtag(read.request.targetingKey, text);
  if (ifNoneMatchNames(request.headers.get('if-none-match'), etag))
    return new Response(null, { status: 304, headers: { etag } });
  return new Response(text, { headers: { 'content-type': 'application/json', etag } });
}

async function flagEvaluation(request: Request, rawKey: string, deps: OfrepDeps): Promise<Response> {
  // Echoed back in the answer: bounded, whatever the path carried.
  const key = rawKey.slice(0, 256);
  const read = await readRequest(request, deps);
  if (!read.ok) return json({ key, ...read.error }, 400);
  const options = await evaluationOptions(request, read, deps);
  const result = evaluateOfrepFlag(read.snapshot, key, read.request, options);
  return result.found ? json(result.evaluation, 200) : json(result.body, 404);
}

async function visitorFlags(request: Request, deps: OfrepDeps): Promise<Response> {
  const snapshot = await deps.store.read();
  const decision = decideVisitor(request.headers, snapshot, await deps.readOverride(request), {
    method: request.method,
    path: new URL(request.url).pathname,
    cf: request.cf,
  });
  const response = json(
    {
      flags: decision.flagValues,
      cohort: decision.assignment.cohort,
      configVersion: snapshot.config.version,
    },
    200,
    { 'cache-control': 'private, no-store' },
  );
  // A first-time visitor keeps the id these flags were computed for: the next proxied page agrees.
  if (decision.setCookie) response.headers.append('set-cookie', decision.setCookie);
  return response;
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A path segment with its percent-escapes decoded; left as it is when they are not valid UTF-8. */
function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

type ReadRequest =
  { ok: true; snapshot: ConfigSnapshot; request: OfrepRequest } | { ok: false; error: OfrepRequestError };

/** Reads the body (bounded) and the config snapshot, and finds whose flags to evaluate. */
async function readRequest(request: Request, deps: OfrepDeps): Promise<ReadRequest> {
  const body = await readLimitedText(request, MAX_OFREP_BODY_BYTES);
  if (!body.ok)
    return {
      ok: false,
      error:
        body.reason === 'too-large'
          ? { errorCode: 'GENERAL', errorDetails: `the request body is over ${MAX_OFREP_BODY_BYTES} bytes` }
          : { errorCode: 'PARSE_ERROR', errorDetails: 'the request body is not UTF-8' },
    };
  const snapshot = await deps.store.read();
  const parsed = parseOfrepRequest(body.text, request.headers, snapshot.config.stickiness);
  return parsed.ok ? { ok: true, snapshot, request: parsed.request } : parsed;
}

/**
 * What only the request's own visitor gets. The QA override cookie's flag pins, and its cohort
 * for the metadata's `cohort` when the context asked for the cohort: a QA browser that evaluates another
 * id (`targetingKey`) gets that visitor's cohort as the splitter gives it to them, not its own
 * pin. The request's attributes (`request.cf`, cookies, headers), for the names the context
 * lacks: another visitor's flags never read this browser's country or cookies.
 */
async function evaluationOptions(
  raw: Request,
  { request, snapshot }: { request: OfrepRequest; snapshot: ConfigSnapshot },
  deps: OfrepDeps,
): Promise<OfrepEvaluationOptions> {
  if (!evaluatesOwnVisitor(request, raw.headers, snapshot.config.stickiness)) return {};
  // The page's own path is the app's, not this endpoint's: a context names it when rules need it.
  const requestAttributes = requestContext(request.targetingKey, {
    headers: raw.headers,
    cf: raw.cf,
  });
  // The cookie's flag pins apply to this browser's own flags, as they do in x-feature-flags.
  const override = await deps.readOverride(raw);
  return {
    requestAttributes,
    ...(override && request.includeCohort ? { override: override.cohort } : {}),
    ...(override?.pins ? { pins: override.pins } : {}),
  };
}

/** Who may call OFREP: with the key, anyone (`public`), or nobody, and why. */
export type OfrepAccess =
  { kind: 'key' } | { kind: 'public'; why: string } | { kind: 'closed'; reason: string };

/** The environments where OFREP must be opened on purpose. */
const DEPLOYED = new Set(['staging', 'production']);

/**
 * Whether OFREP answers, decided at deploy time. OFREP lists every flag and the cohort of any
 * targeting key, so staging and production must choose: the `OFREP_API_KEY` secret (callers send
 * it), or the var `OFREP_ACCESS = "public"` (a browser SDK on the app's pages, which could not keep
 * a key secret anyway). With neither, OFREP answers `403` and the reason is logged; visitors are
 * not affected. Development stays open, so local runs and tests need nothing. An `OFREP_ACCESS`
 * other than `public` is a typo, and closes OFREP everywhere rather than open it by guess.
 *
 * @example
 * ofrepAccess({ ENVIRONMENT: 'production', OFREP_ACCESS: 'public' } as Settings); // { kind: 'public', … }
 * ofrepAccess({ ENVIRONMENT: 'production' } as Settings).kind; // 'closed'
 */
export function ofrepAccess(
  settings: Pick<Settings, 'ENVIRONMENT' | 'OFREP_ACCESS' | 'OFREP_API_KEY'>,
): OfrepAccess {
  const { ENVIRONMENT, OFREP_ACCESS, OFREP_API_KEY } = settings;
  if (OFREP_ACCESS !== undefined && OFREP_ACCESS !== 'public')
    return {
      kind: 'closed',
      reason: `OFREP_ACCESS is ${JSON.stringify(OFREP_ACCESS.slice(0, 64))}: the only value is "public" (or leave it out and set the OFREP_API_KEY secret)`,
    };
  if (OFREP_API_KEY !== undefined) return { kind: 'key' };
  if (OFREP_ACCESS === 'public') return { kind: 'public', why: 'OFREP_ACCESS = "public"' };
  if (!DEPLOYED.has(ENVIRONMENT)) return { kind: 'public', why: `ENVIRONMENT is ${ENVIRONMENT}` };
  return {
    kind: 'closed',
    reason: `ENVIRONMENT is ${ENVIRONMENT} and neither the OFREP_API_KEY secret nor OFREP_ACCESS = "public" is set: every OFREP request answers 403 (docs/OFREP.md)`,
  };
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i;

/**
 * With OFREP_API_KEY set, requires it as `Authorization: Bearer <key>` or `X-API-Key: <key>`
 * (compared in constant time): `401` without one, `403` with a wrong one, both without a body,
 * as the spec has them. Preflights pass: browsers send them without credentials. Answers the
 * refusal, or undefined to go on.
 */
function apiKeyGate(apiKey: string | undefined): (request: Request) => Promise<Response | undefined> {
  const matches = apiKey ? bearerTokenCheck(apiKey) : undefined;
  return async function ofrepApiKey(request) {
    if (!matches || request.method === 'OPTIONS') return undefined;
    const presented = [
      BEARER.exec(request.headers.get('authorization') ?? '')?.[1],
      request.headers.get('x-api-key'),
    ]
      .filter((value): value is string => typeof value === 'string' && value.length > 0)
      .map((value) => value.slice(0, 4096));
    if (presented.length === 0) return new Response(null, { status: 401 });
    for (const value of presented) if (await matches(value)) return undefined;
    return new Response(null, { status: 403 });
  };
}

const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type, If-None-Match, X-API-Key',
  'access-control-max-age': '600',
};

/**
 * Browser access for the configured app origins (OFREP_CORS_ORIGINS): preflights answered, the
 * origin echoed with credentials (so the visitor's cookie can be the targeting key), `ETag`
 * exposed for the web provider's `If-None-Match`. Other origins get no CORS headers, so the
 * browser keeps the answer from them. OFREP answers are per visitor: `Cache-Control: private`.
 */
function browserAccess(
  settings: Pick<Settings, 'OFREP_CORS_ORIGINS'>,
): (request: Request, next: () => Promise<Response>) => Promise<Response> {
  const allowed = new Set(settings.OFREP_CORS_ORIGINS);
  return async function ofrepBrowserAccess(request, next) {
    const origin = request.headers.get('origin');
    const allowedOrigin = origin !== null && allowed.has(origin) ? origin : undefined;
    let response: Response;
    if (request.method === 'OPTIONS') {
      const headers = new Headers({ allow: 'GET, POST, OPTIONS' });
      if (allowedOrigin && request.headers.get('access-control-request-method'))
        for (const [name, value] of Object.entries(PREFLIGHT_HEADERS)) headers.set(name, value);
      response = new Response(null, { status: 204, headers });
    } else {
      const answer = await next();
      // A mutable copy: a Response made here may be answered as it is, but keep one path.
      response = new Response(answer.body, answer);
    }
    const headers = response.headers;
    if (allowed.size > 0) headers.append('vary', 'Origin');
    if (allowedOrigin) {
      headers.set('access-control-allow-origin', allowedOrigin);
      headers.set('access-control-allow-credentials', 'true');
      headers.set('access-control-expose-headers', 'ETag');
    }
    if (!headers.has('cache-control')) headers.set('cache-control', 'private, no-cache');
    return response;
  };
}

import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono/tiny';
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

/**
 * Mounts the OFREP endpoints on the app (nothing when they are off). Register it after the admin
 * prefix and before the splitter: the whole mount path is answered here, never proxied.
 *
 * @example
 * mountOfrep(app, deps); // POST /ofrep/v1/evaluate/flags, POST /ofrep/v1/evaluate/flags/:key, GET /ofrep/flags
 */
export function mountOfrep(app: Hono, deps: OfrepDeps): void {
  const path = ofrepMountPath(deps.settings);
  if (path) app.route(path, createOfrepApp(deps));
}

/**
 * The OpenFeature Remote Evaluation Protocol on the public host, plus a plain JSON flags route.
 * Every answer comes from the snapshot the splitter uses (`deps.store`) and the splitter's own
 * evaluation, so OpenFeature clients, `x-feature-flags` and `window.__FLAGS__` agree.
 *
 * - `POST /v1/evaluate/flags/:key`: one flag (`200`, `400`, `404 FLAG_NOT_FOUND`).
 * - `POST /v1/evaluate/flags`: every flag, with an `ETag`; `If-None-Match` naming it answers `304`
 *   (`*` names no tag: it gets the full answer).
 * - `GET /v1/configuration`: what the provider may assume (boolean flags, the polling floor).
 * - `GET /flags`: the visitor's flags and cohort for their cookie, issuing one like the splitter.
 */
export function createOfrepApp(deps: OfrepDeps): Hono {
  const ofrep = new Hono();
  ofrep.onError((error, c) => {
    deps.logger.error('ofrep request failed', { error: String(error), path: c.req.path });
    return c.json({ errorDetails: 'edge-rollout could not evaluate this request' }, 500);
  });
  ofrep.use('*', browserAccess(deps.settings));
  ofrep.use('*', apiKeyGate(deps.settings.OFREP_API_KEY));

  ofrep.post('/v1/evaluate/flags', async function bulkEvaluation(c) {
    const read = await readRequest(c, deps);
    if (!read.ok) return c.json(read.error, 400);
    const options = await evaluationOptions(c.req.raw, read, deps);
    const text = JSON.stringify(evaluateOfrepBulk(read.snapshot, read.request, options));
    const etag = await ofrepEtag(read.request.targetingKey, text);
    if (ifNoneMatchNames(c.req.header('if-none-match') ?? null, etag))
      return new Response(null, { status: 304, headers: { etag } });
    return new Response(text, { headers: { 'content-type': 'application/json', etag } });
  });

  ofrep.post('/v1/evaluate/flags/:key', async function flagEvaluation(c) {
    // Echoed back in the answer: bounded, whatever the path carried.
    const key = c.req.param('key').slice(0, 256);
    const read = await readRequest(c, deps);
    if (!read.ok) return c.json({ key, ...read.error }, 400);
    const options = await evaluationOptions(c.req.raw, read, deps);
    const result = evaluateOfrepFlag(read.snapshot, key, read.request, options);
    return result.found ? c.json(result.evaluation) : c.json(result.body, 404);
  });

  ofrep.get('/v1/configuration', (c) =>
    c.json({
      name: 'edge-rollout',
      capabilities: {
        // Polling faster than the config cache only re-reads the same snapshot.
        cacheInvalidation: {
          polling: { enabled: true, minPollingIntervalMs: deps.settings.CONFIG_CACHE_SECONDS * 1000 },
        },
        flagEvaluation: { supportedTypes: ['boolean', 'string', 'int', 'float', 'object'] },
      },
    }),
  );

  ofrep.get('/flags', async function visitorFlags(c) {
    const snapshot = await deps.store.read();
    const decision = decideVisitor(c.req.raw.headers, snapshot, await deps.readOverride(c.req.raw), {
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      cf: c.req.raw.cf,
    });
    const response = c.json({
      flags: decision.flagValues,
      cohort: decision.assignment.cohort,
      configVersion: snapshot.config.version,
    });
    response.headers.set('cache-control', 'private, no-store');
    // A first-time visitor keeps the id these flags were computed for: the next proxied page agrees.
    if (decision.setCookie) response.headers.append('set-cookie', decision.setCookie);
    return response;
  });

  for (const [path, allow] of [
    ['/v1/evaluate/flags', 'POST'],
    ['/v1/evaluate/flags/:key', 'POST'],
    ['/v1/configuration', 'GET, HEAD'],
    ['/flags', 'GET, HEAD'],
  ] as const)
    ofrep.all(path, (c) => {
      c.header('allow', `${allow}, OPTIONS`);
      return c.json({ errorDetails: `method ${c.req.method.slice(0, 16)} not allowed; use ${allow}` }, 405);
    });
  ofrep.all('*', (c) => c.json({ errorDetails: 'no such OFREP endpoint' }, 404));
  return ofrep;
}

type ReadRequest =
  { ok: true; snapshot: ConfigSnapshot; request: OfrepRequest } | { ok: false; error: OfrepRequestError };

/** Reads the body (bounded) and the config snapshot, and finds whose flags to evaluate. */
async function readRequest(c: Context, deps: OfrepDeps): Promise<ReadRequest> {
  const body = await readLimitedText(c.req.raw, MAX_OFREP_BODY_BYTES);
  if (!body.ok)
    return {
      ok: false,
      error:
        body.reason === 'too-large'
          ? { errorCode: 'GENERAL', errorDetails: `the request body is over ${MAX_OFREP_BODY_BYTES} bytes` }
          : { errorCode: 'PARSE_ERROR', errorDetails: 'the request body is not UTF-8' },
    };
  const snapshot = await deps.store.read();
  const parsed = parseOfrepRequest(body.text, c.req.raw.headers, snapshot.config.stickiness);
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

const BEARER = /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i;

/**
 * With OFREP_API_KEY set, requires it as `Authorization: Bearer <key>` or `X-API-Key: <key>`
 * (compared in constant time): `401` without one, `403` with a wrong one, both without a body,
 * as the spec has them. Preflights pass: browsers send them without credentials.
 */
function apiKeyGate(apiKey: string | undefined): MiddlewareHandler {
  const matches = apiKey ? bearerTokenCheck(apiKey) : undefined;
  return async function ofrepApiKey(c, next) {
    if (!matches || c.req.method === 'OPTIONS') return next();
    const presented = [BEARER.exec(c.req.header('authorization') ?? '')?.[1], c.req.header('x-api-key')]
      .filter((value): value is string => typeof value === 'string' && value.length > 0)
      .map((value) => value.slice(0, 4096));
    if (presented.length === 0) return c.body(null, 401);
    for (const value of presented) if (await matches(value)) return next();
    return c.body(null, 403);
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
function browserAccess(settings: Pick<Settings, 'OFREP_CORS_ORIGINS'>): MiddlewareHandler {
  const allowed = new Set(settings.OFREP_CORS_ORIGINS);
  return async function ofrepBrowserAccess(c, next) {
    const origin = c.req.header('origin');
    const allowedOrigin = origin !== undefined && allowed.has(origin) ? origin : undefined;
    if (c.req.method === 'OPTIONS') {
      const headers = new Headers({ allow: 'GET, POST, OPTIONS' });
      if (allowedOrigin && c.req.header('access-control-request-method'))
        for (const [name, value] of Object.entries(PREFLIGHT_HEADERS)) headers.set(name, value);
      c.res = new Response(null, { status: 204, headers });
    } else await next();
    const headers = c.res.headers;
    if (allowed.size > 0) headers.append('vary', 'Origin');
    if (allowedOrigin) {
      headers.set('access-control-allow-origin', allowedOrigin);
      headers.set('access-control-allow-credentials', 'true');
      headers.set('access-control-expose-headers', 'ETag');
    }
    if (!headers.has('cache-control')) headers.set('cache-control', 'private, no-cache');
  };
}

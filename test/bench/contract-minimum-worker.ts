/**
 * The splitter's contract written by hand as tightly as it goes, with no router, no ports and no
 * config store: the limit `npm run bench` compares the splitter with. Per request it does what the
 * splitter does for a GET with a valid cookie and a JSON answer: read the sticky cookie (or issue
 * one), five FNV-1a buckets (the routing split and four flags), the origin request header policy
 * (hop-by-hop, `Host`, `Expect` and every header the edge owns dropped; cohort, flags and
 * X-Forwarded-* set), a deadline on the origin's headers (not its body), the response re-wrapped
 * with hop-by-hop headers dropped, shared caches kept out and the cohort header set, and one
 * Analytics Engine data point written after the response is handed back. Not a product: it is
 * bundled by the bench only.
 */

import { HOP_BY_HOP } from '../../src/proxy/origin-request-headers';

interface Env {
  STABLE_ORIGIN: string;
  CANARY_ORIGIN: string;
  /** The rollout config, as JSON (the same one the splitter reads from KV). */
  CONFIG: string;
  METRICS?: AnalyticsEngineDataset;
}

interface Compiled {
  cookieName: string;
  cookiePrefix: string;
  maxAge: number;
  routingSeed: number;
  routingThreshold: number;
  flags: { name: string; seed: number; threshold: number; value: boolean | undefined }[];
  timeoutMs: number;
  origins: { stable: string; canary: string };
}

const OFFSET_BASIS = 2166136261;
const PRIME = 16777619;

function fnv(text: string, hash: number): number {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), PRIME);
  return hash >>> 0;
}

function bucketOf(seed: number, id: string): number {
  let value = fnv(id, seed);
  // FNV over the decimal digits, most significant first, without building the string.
  let divisor = 1;
  while (value / divisor >= 10) divisor *= 10;
  let hash = OFFSET_BASIS;
  for (; divisor >= 1; divisor /= 10) {
    const digit = Math.floor(value / divisor);
    value -= digit * divisor;
    hash = Math.imul(hash ^ (48 + digit), PRIME);
  }
  return (hash >>> 0) % 10_000;
}

let compiled: Compiled | undefined;

function compile(env: Env): Compiled {
  const config = JSON.parse(env.CONFIG) as {
    rollout: { percent: number; salt: string };
    flags: Record<string, { enabled: boolean; percent?: number; default?: boolean; seed?: string }>;
    stickiness?: { cookieName?: string; maxAgeSeconds?: number };
    failover?: { timeoutMs?: number };
  };
  const cookieName = config.stickiness?.cookieName ?? 'rollout_id';
  return {
    cookieName,
    cookiePrefix: `${cookieName}=`,
    maxAge: config.stickiness?.maxAgeSeconds ?? 2_592_000,
    routingSeed: fnv(config.rollout.salt, OFFSET_BASIS),
    routingThreshold: Math.round(config.rollout.percent * 100),
    flags: Object.entries(config.flags).map(([name, flag]) => ({
      name,
      seed: fnv(flag.seed ?? name, OFFSET_BASIS),
      threshold: Math.round((flag.percent ?? 0) * 100),
      value: flag.enabled ? undefined : (flag.default ?? false),
    })),
    timeoutMs: config.failover?.timeoutMs ?? 10_000,
    origins: { stable: env.STABLE_ORIGIN, canary: env.CANARY_ORIGIN },
  };
}

const ID = /^[A-Za-z0-9_-]{8,64}$/;

const CDN_CACHE_HEADERS = ['cdn-cache-control', 'cloudflare-cdn-cache-control', 'surrogate-control'];
/** Already kept out of shared caches (the bench origin says `no-store`). */
const PRIVATE = /^\s*(private|no-store)\s*$/i;
const SHARED = /\b(public|s-maxage=\d+)\s*,?\s*/gi;

function claimed(name: string): boolean {
  const read = name.includes('_') ? name.replaceAll('_', '-') : name;
  return (
    read.startsWith('x-rollout-') ||
    read.startsWith('x-forwarded-') ||
    read === 'x-feature-flags' ||
    read === 'forwarded' ||
    read === 'x-real-ip' ||
    read === 'true-client-ip' ||
    (read !== name && read === 'cf-connecting-ip')
  );
}

function readCookie(header: string | null, prefix: string): string | undefined {
  if (!header) return undefined;
  let at = header.startsWith(prefix) ? 0 : header.indexOf(`; ${prefix}`);
  if (at < 0) return undefined;
  if (at > 0) at += 2;
  const end = header.indexOf(';', at);
  return header.slice(at + prefix.length, end < 0 ? header.length : end);
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const started = Date.now();
    const c = (compiled ??= compile(env));
    const url = request.url;
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    const hostPart = url.slice(url.indexOf('//') + 2, pathStart);
    const pathAndQuery = url.slice(pathStart);

    let id = readCookie(request.headers.get('cookie'), c.cookiePrefix);
    let setCookie: string | undefined;
    if (id === undefined || !ID.test(id)) {
      id = crypto.randomUUID().replaceAll('-', '');
      setCookie = `${c.cookieName}=${id}; Path=/; Max-Age=${c.maxAge}; HttpOnly; Secure; SameSite=Lax`;
    }
    const cohort = bucketOf(c.routingSeed, id) < c.routingThreshold ? 'canary' : 'stable';
    let flags = '{';
    for (let i = 0; i < c.flags.length; i++) {
      const flag = c.flags[i]!;
      const on = flag.value ?? (flag.threshold >= 10_000 ? true : bucketOf(flag.seed, id) < flag.threshold);
      flags += `${i ? ',' : ''}"${flag.name}":${on}`;
    }
    flags += '}';

    const headers = new Headers(request.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    headers.delete('host');
    headers.delete('expect');
    for (const name of request.headers.keys()) if (claimed(name)) headers.delete(name);
    headers.set('x-rollout-cohort', cohort);
    headers.set('x-feature-flags', flags);
    headers.set('x-forwarded-host', hostPart);
    headers.set('x-forwarded-proto', url.startsWith('https:') ? 'https' : 'http');
    const ip = request.headers.get('cf-connecting-ip');
    if (ip) headers.set('x-forwarded-for', ip);

    // The deadline covers the origin's headers only: `AbortSignal.timeout` would stay attached to
    // the body and cut off a slow one, so a timer is cleared when the headers arrive.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), c.timeoutMs);
    let upstream: Response;
    try {
      upstream = await fetch(c.origins[cohort] + pathAndQuery, {
        method: request.method,
        headers,
        redirect: 'manual',
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
    const response = new Response(upstream.body, upstream);
    for (const name of HOP_BY_HOP) response.headers.delete(name);
    response.headers.delete('x-feature-flags');
    if (setCookie) response.headers.append('set-cookie', setCookie);
    for (const name of CDN_CACHE_HEADERS) response.headers.delete(name);
    response.headers.delete('expires');
    const cacheControl = upstream.headers.get('cache-control');
    if (cacheControl === null || !PRIVATE.test(cacheControl))
      response.headers.set(
        'cache-control',
        cacheControl ? `private, ${cacheControl.replace(SHARED, '')}` : 'private',
      );
    response.headers.set('x-rollout-cohort', cohort);

    const totalMs = Date.now() - started;
    // Off the response's critical path, as the splitter's contract asks.
    ctx.waitUntil(
      new Promise((resolve) => setTimeout(resolve, 0)).then(() =>
        env.METRICS?.writeDataPoint({
          indexes: [cohort],
          blobs: [cohort, cohort, request.method, '', String(upstream.status), 'ok', 'local', 'XX'],
          doubles: [totalMs, totalMs, 0],
        }),
      ),
    );
    return response;
  },
};

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, type LoopbackServer } from '../loopback/loopback-server';

/** A zone route as the Workers API returns it. */
export interface FakeRoute {
  id: string;
  pattern: string;
  script?: string;
}

/** A DNS record as the DNS API returns it (the fields detach reads, plus a few real ones). */
export interface FakeDnsRecord {
  id: string;
  name: string;
  type: 'A' | 'AAAA' | 'CNAME' | 'TXT';
  content: string;
  proxied: boolean;
}

/** The fake's state, which tests arrange and then read back. */
export interface FakeZone {
  zoneId: string;
  token: string;
  routes: FakeRoute[];
  dns: FakeDnsRecord[];
  /** Every request, as `METHOD path?query`, in order. */
  calls: string[];
}

/** A running fake and its zone. */
export interface FakeCloudflareApi extends LoopbackServer {
  zone: FakeZone;
  /** The base URL to put in CLOUDFLARE_API_BASE_URL (the `/client/v4` prefix included). */
  baseUrl: string;
}

/**
 * A loopback stand-in for the part of the Cloudflare API v4 that `rollout detach` uses, speaking
 * its wire format: every answer is the `{ success, errors, messages, result, result_info }`
 * envelope; a wrong token is `403` with error code 10000; an unknown route id is `404`.
 * - `GET /client/v4/zones/:zone/workers/routes`, `POST` (create), `DELETE …/routes/:id`
 * - `GET /client/v4/zones/:zone/dns_records?name=…`
 *
 * @example
 * const api = await startFakeCloudflareApi({ routes: [...], dns: [...] });
 * // CLOUDFLARE_API_BASE_URL=api.baseUrl CLOUDFLARE_API_TOKEN=api.zone.token npx rollout detach …
 */
export async function startFakeCloudflareApi(
  seed: Partial<Pick<FakeZone, 'routes' | 'dns'>> = {},
): Promise<FakeCloudflareApi> {
  const zone: FakeZone = {
    zoneId: '0123456789abcdef0123456789abcdef',
    token: 'fake-cloudflare-api-token',
    routes: seed.routes ?? [],
    dns: seed.dns ?? [],
    calls: [],
  };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk));
    request.on('end', () => handle(zone, request, body, response));
  });
  const loopback = await listenOnLoopback(server);
  return { ...loopback, zone, baseUrl: `http://127.0.0.1:${loopback.port}/client/v4` };
}

function send(response: ServerResponse, status: number, result: unknown, errors: object[] = []): void {
  const envelope = {
    success: errors.length === 0,
    errors,
    messages: [],
    result,
    ...(Array.isArray(result)
      ? { result_info: { page: 1, per_page: 100, count: result.length, total_count: result.length } }
      : {}),
  };
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(envelope));
}

function handle(zone: FakeZone, request: IncomingMessage, body: string, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  zone.calls.push(`${request.method} ${url.pathname}${url.search}`);
  if (request.headers.authorization !== `Bearer ${zone.token}`)
    return send(response, 403, null, [{ code: 10000, message: 'Authentication error' }]);
  const prefix = `/client/v4/zones/${zone.zoneId}`;
  if (!url.pathname.startsWith(prefix))
    return send(response, 404, null, [{ code: 7003, message: 'Could not route to the zone' }]);
  const path = url.pathname.slice(prefix.length);
  if (path === '/workers/routes' && request.method === 'GET') return send(response, 200, zone.routes);
  if (path === '/workers/routes' && request.method === 'POST') {
    const { pattern, script } = JSON.parse(body) as { pattern: string; script: string };
    const route = { id: `route-${zone.routes.length + 1}-${Date.now()}`, pattern, script };
    zone.routes.push(route);
    return send(response, 200, { id: route.id });
  }
  const routeId = /^\/workers\/routes\/([^/]+)$/.exec(path)?.[1];
  if (routeId && request.method === 'DELETE') {
    const index = zone.routes.findIndex((route) => route.id === routeId);
    if (index < 0) return send(response, 404, null, [{ code: 10020, message: 'Route not found' }]);
    zone.routes.splice(index, 1);
    return send(response, 200, { id: routeId });
  }
  if (path === '/dns_records' && request.method === 'GET') {
    const name = url.searchParams.get('name');
    return send(
      response,
      200,
      zone.dns.filter((record) => name === null || record.name === name),
    );
  }
  send(response, 405, null, [{ code: 10405, message: 'Method not allowed' }]);
}

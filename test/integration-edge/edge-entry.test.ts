import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createEdgeApp } from '../../worker/edge/edge-app';
import worker from '../../worker/edge/index';
import { buildRuntime } from '../../worker/edge/runtime';
import {
  HEAD_PROTOCOL_VERSION,
  HOST_KIND_HEADER,
  MIN_PROTOCOL_VERSION,
  PLANE_HEAD_PATH,
  PLANE_REPORT_PATH,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
} from '../../worker/shared/plane-protocol';
import { testVars } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789abcdef';

/** The edge's own env (its CONTROL_PLANE binding reaches the built control Worker) plus vars. */
function edgeEnv(vars: Record<string, string> = {}, overrides: Record<string, unknown> = {}): EdgeEnv {
  const { ADMIN_TOKEN: _token, ...edgeVars } = testVars(vars);
  return { ...(env as unknown as EdgeEnv), ...edgeVars, ...overrides } as EdgeEnv;
}

async function call(
  edge: EdgeEnv,
  path: string,
  init: RequestInit = {},
  origin = 'https://app.example.com',
): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${origin}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, edge, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('the edge Worker entry point', () => {
  it('proxies visitors with the vars from its env', async () => {
    const response = await call(edgeEnv(), '/');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
  });

  it('answers 503 when its vars are invalid, naming nothing publicly, never a crash', async () => {
    const response = await call(edgeEnv({ STABLE_ORIGIN: 'not-a-url', CONFIG_CACHE_SECONDS: 'soon' }), '/');
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toContain('STABLE_ORIGIN');
    expect(text).not.toContain('CONFIG_CACHE_SECONDS');
  });

  it('serves visitors whatever the control Worker holds: a bad admin setting there never reaches them', async () => {
    // The edge has no admin token at all: the setting lives in the control Worker only.
    const response = await call(edgeEnv({ ADMIN_TOKEN: 'short' }), '/');
    expect(response.status).toBe(200);
  });
});

describe('the admin prefix on the app host goes to the control Worker over the service binding', () => {
  it('answers the admin API from the control Worker, stamped with the protocol version', async () => {
    const response = await call(edgeEnv(), '/__rollout/state', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get(PROTOCOL_HEADER)).toBe(String(PROTOCOL_VERSION));
    const body = (await response.json()) as { version: number };
    expect(typeof body.version).toBe('number');
  });

  it('accepts only Authorization: Bearer there, never an Access JWT or a forged protocol claim', async () => {
    const response = await call(edgeEnv(), '/__rollout/state', {
      headers: {
        'cf-access-jwt-assertion': 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
        [PROTOCOL_HEADER]: '2',
        [HOST_KIND_HEADER]: 'cockpit',
      },
    });
    expect(response.status).toBe(401);
  });

  it('redirects GET /__rollout/ to the cockpit on its own origin and never serves the page there', async () => {
    const page = await call(edgeEnv(), '/__rollout/', { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('https://cockpit.localhost/__rollout/');
    const script = await call(edgeEnv(), '/__rollout/cockpit.js');
    expect(script.status).toBe(404);
  });

  it('forwards the cockpit host whole to the control Worker', async () => {
    const response = await call(edgeEnv(), '/__rollout/health', {}, 'http://cockpit.localhost:8787');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get(PROTOCOL_HEADER)).toBe(String(PROTOCOL_VERSION));
  });

  it('never proxies a spelling of the admin prefix to an origin', async () => {
    for (const path of ['/__ROLLOUT/state', '/__rollout%2fstate', '//__rollout/state']) {
      const response = await call(edgeEnv(), path);
      expect(response.headers.get('x-rollout-cohort'), path).toBeNull();
      expect(response.status, path).toBeGreaterThanOrEqual(400);
    }
  });
});

describe('visitors never need the control Worker', () => {
  const down = { fetch: async () => Promise.reject(new Error('connection refused')) };

  it('serves visitors and answers the admin prefix with a clear 503 while the control Worker is down', async () => {
    const edge = edgeEnv({}, { CONTROL_PLANE: down });
    const visitor = await call(edge, '/invoices');
    expect(visitor.status).toBe(200);
    const admin = await call(edge, '/__rollout/state', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(admin.status).toBe(503);
    expect(admin.headers.get('retry-after')).toBe('5');
    expect(((await admin.json()) as { error: string }).error).toMatch(/control plane is unreachable/);
  });

  it('names `npm run dev` when the binding finds no control Worker (wrangler dev on the top-level config alone)', async () => {
    // What wrangler dev's binding answers when the other Worker is not running.
    const notRunning = {
      fetch: async () =>
        new Response('Worker "edge-rollout-control" not found. Make sure it is running locally.', {
          status: 503,
        }),
    };
    const edge = edgeEnv({}, { CONTROL_PLANE: notRunning });
    const admin = await call(edge, '/__rollout/state');
    expect(admin.status).toBe(503);
    expect(await admin.text()).toContain('npm run dev');
    expect((await call(edge, '/')).status).toBe(200);
  });

  it('names `npm run dev` when the edge runs without the binding at all', async () => {
    const edge = edgeEnv({}, { CONTROL_PLANE: undefined });
    const admin = await call(edge, '/__rollout/state');
    expect(admin.status).toBe(503);
    expect(await admin.text()).toContain('npm run dev');
    expect((await call(edge, '/')).status).toBe(200);
  });
});

describe('protocol compatibility, one version back in both directions', () => {
  it('a control Worker of this build serves an edge one version older', async () => {
    // What the previous edge sends: its version, the host kind, nothing newer.
    const binding = (env as unknown as { CONTROL_PLANE: Fetcher }).CONTROL_PLANE;
    const response = await binding.fetch(
      new Request('https://app.example.com/__rollout/state', {
        headers: {
          authorization: `Bearer ${TOKEN}`,
          [PROTOCOL_HEADER]: String(MIN_PROTOCOL_VERSION),
          [HOST_KIND_HEADER]: 'app',
        },
      }),
    );
    expect(response.status).toBe(200);
    const page = await binding.fetch(
      new Request('https://app.example.com/__rollout/', {
        headers: { [PROTOCOL_HEADER]: String(MIN_PROTOCOL_VERSION), [HOST_KIND_HEADER]: 'app' },
        redirect: 'manual',
      }),
    );
    expect(page.status).toBe(302);
  });

  it('a control Worker of this build refuses nothing newer: a later edge is served as this version', async () => {
    const binding = (env as unknown as { CONTROL_PLANE: Fetcher }).CONTROL_PLANE;
    const response = await binding.fetch(
      new Request('https://app.example.com/__rollout/health', {
        headers: { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION + 1), [HOST_KIND_HEADER]: 'app' },
      }),
    );
    expect(response.status).toBe(200);
  });

  it("the control Worker takes the edge's error reports (protocol 4) only from the edge itself", async () => {
    const binding = (env as unknown as { CONTROL_PLANE: Fetcher }).CONTROL_PLANE;
    const report = (host: string, body: unknown) =>
      binding.fetch(
        new Request(`https://edge-rollout-control.internal${PLANE_REPORT_PATH}`, {
          method: 'POST',
          headers: { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), [HOST_KIND_HEADER]: host },
          body: JSON.stringify(body),
        }),
      );
    const valid = {
      kind: 'exception',
      name: 'Error',
      message: 'boom',
      level: 'error',
      tags: { cohort: 'canary' },
      extra: {},
      workerVersion: 'edge-v1',
      request: { method: 'GET', url: 'https://app.example.com/x', headers: {} },
    };
    expect((await report('plane', valid)).status).toBe(202);
    // A visitor's request through the app's host can never post one.
    expect((await report('app', valid)).status).toBe(404);
    const refused = await report('plane', { ...valid, level: 'fatal' });
    expect(refused.status).toBe(400);
  });

  it('an edge of this build passes through the answers of a control Worker one version older', async () => {
    const seen: Headers[] = [];
    const older = {
      fetch: async (request: Request) => {
        seen.push(request.headers);
        return Response.json(
          { version: 7 },
          { status: 200, headers: { [PROTOCOL_HEADER]: String(MIN_PROTOCOL_VERSION) } },
        );
      },
    };
    const response = await call(edgeEnv({}, { CONTROL_PLANE: older }), '/__rollout/state', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ version: 7 });
    // It sends what an older control Worker reads (version and host), plus what it may ignore.
    expect(seen[0]?.get(PROTOCOL_HEADER)).toBe(String(PROTOCOL_VERSION));
    expect(seen[0]?.get(HOST_KIND_HEADER)).toBe('app');
  });

  it('a control Worker of this build answers the head (protocol 3) to the edge only, never to a forged or older claim', async () => {
    const binding = (env as unknown as { CONTROL_PLANE: Fetcher }).CONTROL_PLANE;
    const ask = (version: number, host: string) =>
      binding.fetch(
        new Request(`https://control.internal${PLANE_HEAD_PATH}`, {
          headers: { [PROTOCOL_HEADER]: String(version), [HOST_KIND_HEADER]: host },
        }),
      );
    const head = await ask(PROTOCOL_VERSION, 'plane');
    expect(head.status).toBe(200);
    const body = (await head.json()) as { epoch: number; version: number; kill: string | null };
    expect(body.epoch).toBeGreaterThan(0);
    expect(typeof body.version).toBe('number');
    expect((await ask(PROTOCOL_VERSION, 'app')).status).toBe(404);
    // A version from before the head refresh is two back now: refused whole, never a head.
    expect((await ask(HEAD_PROTOCOL_VERSION - 1, 'plane')).status).toBe(400);
    // Through the edge, a client's own claim is dropped: the path is an app path like any other.
    const visitor = await call(edgeEnv(), PLANE_HEAD_PATH, {
      headers: { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), [HOST_KIND_HEADER]: 'plane' },
    });
    expect(visitor.headers.get('x-rollout-cohort')).not.toBeNull();
  });

  it('an edge of this build serves visitors from KV when a control Worker one version back answers the head with 404', async () => {
    const asked: string[] = [];
    const older = {
      fetch: async (request: Request) => {
        asked.push(new URL(request.url).pathname);
        return Response.json({ error: 'not found' }, { status: 404 });
      },
    };
    // A location of its own (its own cache), so the head is asked of this control Worker.
    const edge = edgeEnv({}, { CONTROL_PLANE: older });
    const runtime = buildRuntime(edge, { locationCache: await caches.open('older-control') });
    if (!runtime.ok) throw new Error(runtime.issues.join('; '));
    const ctx = createExecutionContext();
    runtime.headRefresh.keepAlive = (promise) => ctx.waitUntil(promise);
    const response = await createEdgeApp(runtime.deps).fetch(
      new Request('https://app.example.com/invoices'),
      edge,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    expect(asked).toContain(PLANE_HEAD_PATH);
  });
});

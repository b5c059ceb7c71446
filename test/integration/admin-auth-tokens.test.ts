import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256Of, toHex, tokenHashLine, type Role } from '../../src/admin/tokens';
import { base64UrlEncode } from '../../src/encoding';
import { parseSettings } from '../../src/config/settings';
import { controlPlaneFor, type ControlPlane } from '../../worker/control/single-writer/control-plane';
import { RecordingLogger, testApp, testVars, uniqueControlName } from '../support/in-workerd/test-app';

// Named, scoped tokens (issue 25 item 4) and the throttle in front of the object (issue 21 M5).

const TOKENS = {
  root: 'root-token-0123456789abcdef0123456789',
  alice: 'alice-token-0123456789abcdef012345678',
  bob: 'bob-viewer-token-0123456789abcdef0123',
  relay: 'relay-events-token-0123456789abcdef01',
  ciOld: 'ci-deployer-old-0123456789abcdef01234',
  ciNew: 'ci-deployer-new-0123456789abcdef01234',
} as const;

async function line(name: string, role: Role, token: string): Promise<string> {
  return tokenHashLine(name, role, await sha256Of(token));
}

async function adminTokens(entries: [string, Role, string][]): Promise<string> {
  return (await Promise.all(entries.map(([name, role, token]) => line(name, role, token)))).join('\n');
}

let ADMIN_TOKENS = '';
beforeEach(async () => {
  ADMIN_TOKENS = await adminTokens([
    ['root', 'admin', TOKENS.root],
    ['alice', 'operator', TOKENS.alice],
    ['bob', 'viewer', TOKENS.bob],
    ['app-relay', 'events', TOKENS.relay],
    ['ci-deployer', 'operator', TOKENS.ciOld],
    ['ci-deployer', 'operator', TOKENS.ciNew],
  ]);
  const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

const EVENTS_BODY = JSON.stringify({
  events: [{ type: 'email_delivery', cohort: 'canary', success: true, count: 1 }],
});

/** Every authenticated route, with a body it accepts, and the permission it needs. */
const ROUTES: {
  method: string;
  path: string;
  body?: string;
  needs: 'read' | 'operate' | 'configure' | 'events';
}[] = [
  { method: 'GET', path: '/state', needs: 'read' },
  { method: 'GET', path: '/audit', needs: 'read' },
  { method: 'GET', path: '/openapi.json', needs: 'read' },
  { method: 'GET', path: '/session', needs: 'read' },
  { method: 'GET', path: '/series', needs: 'read' },
  { method: 'POST', path: '/preview', body: '{"percent":10}', needs: 'operate' },
  { method: 'PUT', path: '/percent', body: '{"percent":10}', needs: 'operate' },
  { method: 'PUT', path: '/flags/templates', body: '{"enabled":true}', needs: 'operate' },
  { method: 'POST', path: '/pause', needs: 'operate' },
  { method: 'POST', path: '/resume', needs: 'operate' },
  { method: 'POST', path: '/promote', needs: 'operate' },
  { method: 'POST', path: '/abort', body: '{"reason":"test"}', needs: 'operate' },
  { method: 'POST', path: '/undo', needs: 'operate' },
  { method: 'PUT', path: '/kill', body: '{"canary":true}', needs: 'operate' },
  { method: 'DELETE', path: '/kill', needs: 'operate' },
  { method: 'POST', path: '/override-link', body: '{"cohort":"canary"}', needs: 'operate' },
  { method: 'POST', path: '/guard/run', needs: 'operate' },
  {
    method: 'PUT',
    path: '/config',
    body: JSON.stringify({ rollout: { percent: 5, salt: 'x' } }),
    needs: 'configure',
  },
  { method: 'POST', path: '/events', body: EVENTS_BODY, needs: 'events' },
];

function namedApp(vars: Record<string, string> = {}) {
  const app = testApp({ vars: { ADMIN_TOKENS, ...vars } });
  const as = (
    token: string,
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ) =>
    app.request(`/__rollout${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body }),
    });
  const auditActors = async () =>
    ((await (await as(TOKENS.root, 'GET', '/audit')).json()) as { entries: { actor: string }[] }).entries.map(
      (entry) => entry.actor,
    );
  return { ...app, as, auditActors };
}

describe('roles', () => {
  it('gives a viewer 403 on every write and every events post, changing nothing, and answers its reads', async () => {
    const { as, kv } = namedApp();
    for (const route of ROUTES) {
      const response = await as(TOKENS.bob, route.method, route.path, route.body);
      if (route.needs === 'read') expect(response.status, route.path).toBe(200);
      else {
        expect(response.status, `${route.method} ${route.path}`).toBe(403);
        expect(((await response.json()) as { error: string }).error).toMatch(/bob has the viewer role/);
      }
    }
    expect(await kv.get('config')).toBeNull();
    expect(((await (await as(TOKENS.bob, 'GET', '/state')).json()) as { version: number }).version).toBe(0);
  });

  it('gives the events token 403 on everything but POST /events, which it may use', async () => {
    const { as, metrics } = namedApp();
    for (const route of ROUTES) {
      const response = await as(TOKENS.relay, route.method, route.path, route.body);
      expect(response.status, `${route.method} ${route.path}`).toBe(route.needs === 'events' ? 202 : 403);
    }
    expect(metrics.metrics).toHaveLength(1);
  });

  it('lets an operator ramp, flip flags, kill and abort, but not replace the whole config', async () => {
    const { as, auditActors } = namedApp();
    for (const route of ROUTES) {
      const response = await as(TOKENS.alice, route.method, route.path, route.body);
      if (route.needs === 'configure' || route.needs === 'events')
        expect(response.status, route.path).toBe(403);
      else expect([401, 403], `${route.method} ${route.path}`).not.toContain(response.status);
    }
    expect((await auditActors()).every((actor) => actor === 'alice')).toBe(true);
    expect(await auditActors()).toContain('alice');
  });

  it('lets admin do everything, ADMIN_TOKEN included as the token named admin', async () => {
    const { as, auditActors } = namedApp();
    const config = ROUTES.find((route) => route.path === '/config')!;
    expect((await as(TOKENS.root, 'PUT', '/config', config.body)).status).toBe(200);
    expect((await as(testVars().ADMIN_TOKEN!, 'PUT', '/percent', '{"percent":3}')).status).toBe(200);
    expect((await as(TOKENS.root, 'POST', '/events', EVENTS_BODY)).status).toBe(202);
    expect(await auditActors()).toEqual(['admin', 'root']);
  });
});

describe('names', () => {
  it('records the token’s name, and the person ROLLOUT_ACTOR names with a shared token', async () => {
    const { as, auditActors } = namedApp();
    const headers = { 'x-rollout-actor': 'alice' };
    expect((await as(TOKENS.ciNew, 'PUT', '/percent', '{"percent":5}', headers)).status).toBe(200);
    expect(
      (await as(TOKENS.alice, 'PUT', '/percent', '{"percent":6}', { 'x-rollout-actor': 'alice' })).status,
    ).toBe(200);
    expect((await as(TOKENS.alice, 'PUT', '/percent', '{"percent":7}')).status).toBe(200);
    expect(await auditActors()).toEqual(['alice', 'alice', 'ci-deployer (alice)']);
  });

  it('shows who is signed in on GET /session, as the cockpit displays it', async () => {
    const { as } = namedApp();
    const session = await as(TOKENS.ciOld, 'GET', '/session', undefined, { 'x-rollout-actor': 'bob' });
    expect(((await session.json()) as { actor: string }).actor).toBe('ci-deployer (bob)');
  });
});

describe('rotation', () => {
  it('accepts both tokens of a name while both are listed, and only the new one once the old line is gone', async () => {
    const both = namedApp();
    expect((await both.as(TOKENS.ciOld, 'GET', '/state')).status).toBe(200);
    expect((await both.as(TOKENS.ciNew, 'GET', '/state')).status).toBe(200);
    const rotated = testApp({
      vars: { ADMIN_TOKENS: await adminTokens([['ci-deployer', 'operator', TOKENS.ciNew]]), ADMIN_TOKEN: '' },
    });
    const read = (token: string) =>
      rotated.request('/__rollout/state', { headers: { authorization: `Bearer ${token}` } });
    expect((await read(TOKENS.ciOld)).status).toBe(401);
    expect((await read(TOKENS.ciNew)).status).toBe(200);
  });

  it('accepts a hash in base64url as well as hex', async () => {
    const digest = await sha256Of(TOKENS.alice);
    const app = testApp({
      vars: { ADMIN_TOKENS: `alice:viewer:${base64UrlEncode(digest)}`, ADMIN_TOKEN: '' },
    });
    const response = await app.request('/__rollout/state', {
      headers: { authorization: `Bearer ${TOKENS.alice}` },
    });
    expect(response.status).toBe(200);
    expect(toHex(digest)).toHaveLength(64);
  });
});

describe('a bad ADMIN_TOKENS', () => {
  it('turns the admin API off with 503 and a log line naming the entry, while visitors are served', async () => {
    const { as, request, logger } = namedApp({ ADMIN_TOKENS: 'alice:superuser:abc' });
    for (const token of [TOKENS.root, testVars().ADMIN_TOKEN!, 'wrong']) {
      const response = await as(token, 'GET', '/state');
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: string }).error).toMatch(/ADMIN_TOKENS is invalid/);
    }
    const logged = logger.lines.find((entry) => entry.message.includes('ADMIN_TOKENS is invalid'));
    expect(logged?.level).toBe('error');
    expect(JSON.stringify(logged?.fields)).toMatch(/entry 1 \(alice\): the role must be one of/);
    expect((await request('/__rollout/health')).status).toBe(200);
    expect((await request('/some/page')).status).toBe(200);
  });
});

/** The control plane with every call counted: each one is a Durable Object request. */
function countingControl(): { control: ControlPlane; calls: () => number } {
  const parsed = parseSettings(testVars());
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const namespace = (env as unknown as { CONTROL: Parameters<typeof controlPlaneFor>[0] }).CONTROL;
  const real = controlPlaneFor(namespace, parsed.settings, new RecordingLogger(), uniqueControlName());
  let calls = 0;
  const control = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { control, calls: () => calls };
}

describe('a flood of unauthenticated requests (issue 21 M5)', () => {
  it('makes no Durable Object request for 1,000 bad or missing credentials from many addresses', async () => {
    const { control, calls } = countingControl();
    const { request } = testApp({ vars: { ADMIN_TOKENS }, deps: { control } });
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const ip = i % 3 === 0 ? `2001:db8:${i.toString(16)}::1` : `198.51.${i % 250}.${i % 7}`;
      const headers: Record<string, string> = { 'cf-connecting-ip': ip };
      if (i % 2) headers.authorization = `Bearer guess-${i}-0123456789abcdef0123456789`;
      const path = ['/state', '/percent', '/abort', '/audit', '/events'][i % 5]!;
      const method = path === '/state' || path === '/audit' ? 'GET' : path === '/percent' ? 'PUT' : 'POST';
      const response = await request(`/__rollout${path}`, {
        method,
        headers,
        body: method === 'GET' ? undefined : '{}',
      });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
    expect(calls()).toBe(0);
    expect([...statuses.keys()].every((status) => status === 401 || status === 429)).toBe(true);
    // The counter does count: one authenticated read is one object request.
    const read = await request('/__rollout/state', { headers: { authorization: `Bearer ${TOKENS.bob}` } });
    expect(read.status).toBe(200);
    expect(calls()).toBeGreaterThan(0);
  });
});

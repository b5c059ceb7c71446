import { env } from 'cloudflare:workers';
import { guardVerdictRecord } from '../support/fixtures/guard-verdict-record';
import { runInDurableObject } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RolloutConfig } from '../../src/config/config-schema';
import { testApp } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789abcdef';
const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;
const controlNamespace = (env as unknown as ControlEnv).CONTROL;

function client() {
  const app = testApp();
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await app.request(`/__rollout${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  return { ...app, call };
}

async function stored(): Promise<RolloutConfig | null> {
  return kv.get<RolloutConfig>('config', 'json');
}

beforeEach(async () => {
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

describe('rollout lifecycle through the admin API', () => {
  it('walks idle → ramping → paused → ramping → promoted → finalized → a new ramp → aborted', async () => {
    const { call, clock } = client();
    const steps: [string, string, unknown, string, number][] = [
      ['PUT', '/percent', { percent: 10 }, 'ramping', 10],
      ['PUT', '/percent', { percent: 50 }, 'ramping', 50],
      ['POST', '/pause', undefined, 'paused', 50],
      ['POST', '/resume', undefined, 'ramping', 50],
      ['POST', '/promote', { reason: 'healthy for 2 days' }, 'promoted', 100],
      ['POST', '/finalize', undefined, 'finalized', 0],
      ['PUT', '/percent', { percent: 5 }, 'ramping', 5],
      ['POST', '/abort', { reason: 'p95 too high' }, 'aborted', 0],
      ['PUT', '/percent', { percent: 1 }, 'ramping', 1],
      ['PUT', '/percent', { percent: 0 }, 'idle', 0],
    ];
    let version = 0;
    for (const [method, path, body, state, percent] of steps) {
      clock.advance(1000);
      const response = await call(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(200);
      version++;
      expect(response.body.version).toBe(version);
      expect(response.body.config.rollout).toMatchObject({ state, percent });
      expect(response.headers.get('etag')).toBe(`"${version}"`);
      expect(await stored()).toEqual(response.body.config);
    }
  });

  it('finalize makes the canary origin the stable one and reshuffles with a fresh salt', async () => {
    const { call, deps } = client();
    await call('PUT', '/percent', { percent: 20 });
    const promoted = await call('POST', '/promote');
    const finalized = await call('POST', '/finalize');
    expect(finalized.status).toBe(200);
    expect(finalized.body.config.origins).toEqual({
      stable: deps.settings.CANARY_ORIGIN,
      canary: deps.settings.CANARY_ORIGIN,
    });
    expect(finalized.body.config.rollout.salt).not.toBe(promoted.body.config.rollout.salt);
    expect(finalized.body.config.rollout.salt).toMatch(/^[a-z0-9]{16}$/);
  });

  it.each([
    ['abort while idle', [], 'POST', '/abort', undefined, 'idle'],
    ['pause while idle', [], 'POST', '/pause', undefined, 'idle'],
    ['resume while ramping', [['PUT', '/percent', { percent: 5 }]], 'POST', '/resume', undefined, 'ramping'],
    ['promote while idle', [], 'POST', '/promote', undefined, 'idle'],
    [
      'finalize while ramping',
      [['PUT', '/percent', { percent: 5 }]],
      'POST',
      '/finalize',
      undefined,
      'ramping',
    ],
    [
      'set a percent while paused',
      [
        ['PUT', '/percent', { percent: 5 }],
        ['POST', '/pause'],
      ],
      'PUT',
      '/percent',
      { percent: 50 },
      'paused',
    ],
    [
      'set a percent while promoted',
      [
        ['PUT', '/percent', { percent: 5 }],
        ['POST', '/promote'],
      ],
      'PUT',
      '/percent',
      { percent: 50 },
      'promoted',
    ],
    [
      'abort twice',
      [
        ['PUT', '/percent', { percent: 5 }],
        ['POST', '/abort'],
      ],
      'POST',
      '/abort',
      undefined,
      'aborted',
    ],
  ] as [string, [string, string, unknown?][], string, string, unknown, string][])(
    'refuses to %s with 409 naming the state, changing nothing',
    async (_name, setup, method, path, body, state) => {
      const { call } = client();
      for (const [m, p, b] of setup) expect((await call(m, p, b)).status).toBe(200);
      const before = await kv.get('config');
      const auditBefore = (await kv.list({ prefix: 'audit:' })).keys.length;
      const response = await call(method, path, body);
      expect(response.status).toBe(409);
      expect(response.body.error).toContain(`the rollout is ${state}`);
      expect(await kv.get('config')).toBe(before);
      expect((await kv.list({ prefix: 'audit:' })).keys.length).toBe(auditBefore);
    },
  );

  it('says "resume first" when a paused rollout is asked for a new percent', async () => {
    const { call } = client();
    await call('PUT', '/percent', { percent: 5 });
    await call('POST', '/pause');
    expect((await call('PUT', '/percent', { percent: 10 })).body.error).toContain('resume first');
  });
});

describe('If-Match and versions', () => {
  it('runs concurrent writes from one isolate one after another, losing none', async () => {
    const { call } = client();
    const results = await Promise.all([
      call('PUT', '/percent', { percent: 5 }),
      call('PUT', '/flags/templates', { enabled: true }),
      call('PUT', '/kill', { canary: true }),
      call('PUT', '/flags/emailDelivery', { enabled: true }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(results.map((r) => r.body.version).sort()).toEqual([1, 2, 3, 4]);
    const final = (await stored())!;
    // The kill switch is a version too: one version names everything visitors get.
    expect(final.version).toBe(4);
    expect(final.rollout.percent).toBe(5);
    expect(final.flags.templates?.enabled).toBe(true);
    expect(final.flags.emailDelivery?.enabled).toBe(true);
    expect(await kv.get('kill:api')).toBe('canary');
    expect((await call('GET', '/audit')).body.entries).toHaveLength(4);
  });

  it('answers 412 when If-Match names another version, and changes nothing', async () => {
    const { call } = client();
    await call('PUT', '/percent', { percent: 5 });
    await call('PUT', '/percent', { percent: 10 });
    const before = await kv.get('config');
    for (const [method, path, body] of [
      ['PUT', '/percent', { percent: 20 }],
      ['PUT', '/flags/templates', { enabled: true }],
      ['POST', '/pause', undefined],
      ['PUT', '/config', { rollout: { percent: 1, salt: 'x' } }],
      ['PUT', '/kill', { canary: true }],
      ['DELETE', '/kill', undefined],
    ] as const) {
      const response = await call(method, path, body, { 'if-match': '1' });
      expect(response.status, `${method} ${path}`).toBe(412);
      expect(response.body.error).toContain('current version 2');
    }
    expect(await kv.get('config')).toBe(before);
    expect(await kv.get('kill:api')).toBeNull();
    expect((await call('GET', '/audit')).body.entries).toHaveLength(2);
  });

  it('applies a write whose If-Match (bare or as the quoted ETag) is the current version', async () => {
    const { call } = client();
    const first = await call('PUT', '/percent', { percent: 5 });
    const etag = first.headers.get('etag')!;
    expect((await call('PUT', '/percent', { percent: 10 }, { 'if-match': etag })).status).toBe(200);
    expect((await call('PUT', '/percent', { percent: 15 }, { 'if-match': '2' })).status).toBe(200);
    expect((await stored())?.version).toBe(3);
  });

  it('treats a version inside a PUT /config body like If-Match', async () => {
    const { call } = client();
    await call('PUT', '/percent', { percent: 5 });
    const stale = await call('PUT', '/config', { version: 0, rollout: { percent: 1, salt: 'x' } });
    expect(stale.status).toBe(412);
    const current = await call('PUT', '/config', { version: 1, rollout: { percent: 1, salt: 'x' } });
    expect(current.status).toBe(200);
    expect(current.body.version).toBe(2);
  });
});

describe('GET /state and flags', () => {
  it('reports version, state, percent, both kill switches, the replica and the guard verdict', async () => {
    const { call, deps } = client();
    const empty = await call('GET', '/state');
    expect(empty.body).toMatchObject({
      version: 0,
      state: 'idle',
      percent: 0,
      source: 'safe-default',
      guard: null,
      kill: { canary: false, allFlags: false, flags: [], raw: null, sources: { api: null, hand: null } },
    });
    await call('PUT', '/percent', { percent: 25 });
    await call('PUT', '/kill', { canary: true });
    await kv.put('kill', 'flag:templates');
    const verdict = guardVerdictRecord({ status: 'healthy', at: '2026-11-25T12:00:00.000Z' });
    await deps.control.setGuardVerdict(verdict);
    const state = await call('GET', '/state');
    expect(state.body).toMatchObject({
      version: 2,
      state: 'ramping',
      percent: 25,
      source: 'kv',
      kill: {
        canary: true,
        allFlags: false,
        flags: ['templates'],
        raw: 'canary flag:templates',
        sources: { api: 'canary', hand: 'flag:templates' },
      },
      replica: { committedVersion: 2, replicatedVersion: 2, kvVersion: 2, lagging: false, failedAttempts: 0 },
      guard: verdict,
    });
    expect(state.body.config).toEqual(await stored());
    expect(state.headers.get('etag')).toBe('"2"');
  });

  it('shows a stored guard verdict that is not the guard’s shape as none', async () => {
    const { call, controlName } = client();
    await call('GET', '/state');
    const stub = controlNamespace.get(controlNamespace.idFromName(controlName));
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        `INSERT OR REPLACE INTO meta (key, value) VALUES ('guard:verdict', ?)`,
        JSON.stringify({ verdict: 'healthy', at: 'yesterday' }),
      );
    });
    expect((await call('GET', '/state')).body).toMatchObject({ guard: null });
  });

  it('garbage in the KV replica never rewinds anything: the true version stands, the next write follows it', async () => {
    const { call } = client();
    await call('PUT', '/percent', { percent: 25 });
    await call('PUT', '/percent', { percent: 40 });
    await kv.put('config', 'garbage');
    const state = await call('GET', '/state');
    expect(state.body.version).toBe(2);
    expect(state.body.percent).toBe(40);
    expect(state.body.source).not.toBe('kv');
    expect(state.body.replica).toMatchObject({ committedVersion: 2, kvVersion: null });
    expect(state.body.issues).toEqual(expect.arrayContaining([expect.stringContaining('not valid JSON')]));
    const next = await call('PUT', '/percent', { percent: 50 });
    expect(next.status).toBe(200);
    expect(next.body.version).toBe(3);
    expect((await stored())?.version).toBe(3);
    const undone = await call('POST', '/undo', undefined, { 'if-match': '3' });
    expect(undone.body.version).toBe(4);
    expect(undone.body.config.rollout.percent).toBe(40);
  });

  it('creates and updates flags with PUT /flags/:name', async () => {
    const { call } = client();
    const created = await call('PUT', '/flags/templates', { enabled: true, percent: 30 });
    expect(created.body.config.flags.templates).toEqual({ enabled: true, percent: 30, default: false });
    const off = await call('PUT', '/flags/templates', { enabled: false });
    expect(off.body.config.flags.templates).toEqual({ enabled: false, percent: 30, default: false });
    expect((await stored())?.flags.templates?.enabled).toBe(false);
  });

  it('serves the new config to this isolate at once after a write', async () => {
    const { call, request } = client();
    expect((await request('/page')).headers.get('x-rollout-cohort')).toBe('stable');
    await call('PUT', '/percent', { percent: 100 });
    // No clock advance: the write primed the isolate cache.
    expect((await request('/page')).headers.get('x-rollout-cohort')).toBe('canary');
  });

  it('keeps unknown admin paths a 404 and never proxies them to the origin', async () => {
    const { call } = client();
    const response = await call('GET', '/nope');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not found' });
  });
});

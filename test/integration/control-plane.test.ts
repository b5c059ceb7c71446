import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RolloutConfig } from '../../src/config/config-schema';
import { ControlTables } from '../../worker/control/single-writer/control-tables';
import type { RolloutControl } from '../../worker/control/single-writer/rollout-control';
import { testApp, uniqueControlName } from '../support/in-workerd/test-app';

const kv = (env as unknown as ControlEnv).ROLLOUT;
const CONTROL = (env as unknown as ControlEnv).CONTROL;
const TOKEN = 'test-admin-token-0123456789abcdef';

beforeEach(async () => {
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

/** A KV namespace that answers reads with a frozen copy, as KV in another location can. */
function staleKv(frozen: Map<string, string | null>): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === 'get')
        return async (key: string | string[]) =>
          Array.isArray(key)
            ? new Map(key.map((k) => [k, frozen.get(k) ?? null]))
            : (frozen.get(key) ?? null);
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function call(
  app: ReturnType<typeof testApp>,
  method: string,
  path: string,
  body?: unknown,
  ifMatch?: string,
) {
  const response = await app.request(`/__rollout${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(ifMatch ? { 'if-match': ifMatch } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('one writer', () => {
  it('keeps an abort that a writer reading a stale replica tries to overwrite: the second writer gets 412', async () => {
    const here = testApp();
    await call(here, 'PUT', '/percent', { percent: 10 });
    // Another location, whose KV still holds version 1 whatever happens next.
    const frozen = new Map([['config', await kv.get('config')]]);
    const there = testApp({ controlName: here.controlName, kv: staleKv(frozen) });
    const seen = (await call(there, 'GET', '/state')).body.version as number;
    expect(seen).toBe(1);

    const abort = await call(here, 'POST', '/abort', { reason: 'errors' }, `"${seen}"`);
    const ramp = await call(there, 'PUT', '/percent', { percent: 30 }, `"${seen}"`);
    expect(abort.status).toBe(200);
    expect(ramp.status).toBe(412);
    expect(ramp.body.error).toBe('If-Match 1 is not the current version 2');
    const state = (await call(there, 'GET', '/state')).body;
    expect(state).toMatchObject({ version: 2, state: 'aborted', percent: 0 });
    const audit = (await call(here, 'GET', '/audit')).body.entries as { version: number; action: string }[];
    expect(audit.map((e) => [e.version, e.action])).toEqual([
      [2, 'abort'],
      [1, 'set-percent'],
    ]);
  });

  it('serialises two kill writes made with one If-Match: the second gets 412 and the first stands', async () => {
    const here = testApp();
    const there = testApp({ controlName: here.controlName, kv: staleKv(new Map()) });
    const version = (await call(here, 'GET', '/state')).body.version as number;
    const [first, second] = await Promise.all([
      call(here, 'PUT', '/kill', { canary: true }, `"${version}"`),
      call(there, 'PUT', '/kill', { flags: ['fileStorage'] }, `"${version}"`),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 412]);
    const winner = first.status === 200 ? 'canary' : 'flag:fileStorage';
    expect((await call(here, 'GET', '/state')).body.kill.sources.api).toBe(winner);
  });

  it('accepts exactly one of 50 concurrent conflicting writes sent with one If-Match', async () => {
    const app = testApp();
    await call(app, 'PUT', '/percent', { percent: 1 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(app, 'PUT', '/percent', { percent: i + 2 }, '"1"')),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(49);
    expect((await call(app, 'GET', '/state')).body.version).toBe(2);
    expect((await call(app, 'GET', '/audit')).body.entries).toHaveLength(2);
  });

  it('numbers 50 concurrent writes without If-Match N+1…N+50, audits each, and undo walks them back in order', async () => {
    const app = testApp();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(app, 'PUT', '/percent', { percent: i + 1 })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const versions = results.map((r) => r.body.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const audit: { version: number; after: RolloutConfig }[] = [];
    let cursor: string | null = null;
    do {
      const page: { entries: typeof audit; cursor: string | null } = (
        await call(app, 'GET', `/audit?limit=20${cursor ? `&cursor=${cursor}` : ''}`)
      ).body;
      audit.push(...page.entries);
      cursor = page.cursor;
    } while (cursor);
    expect(audit.map((e) => e.version)).toEqual(Array.from({ length: 50 }, (_, i) => 50 - i));
    // Each version's percent, as the writes landed in the object's order.
    const percentAt = new Map(audit.map((e) => [e.version, e.after.rollout.percent]));
    for (let back = 1; back <= 50; back++) {
      const undone = await call(app, 'POST', '/undo', undefined, `"${50 + back - 1}"`);
      expect(undone.status).toBe(200);
      expect(undone.body.version).toBe(50 + back);
      expect(undone.body.config.rollout.percent).toBe(back === 50 ? 0 : percentAt.get(50 - back));
    }
    expect((await call(app, 'POST', '/undo', undefined, '"100"')).status).toBe(409);
  });

  it('answers a write that changes nothing with changed: false, keeping version and audit', async () => {
    const app = testApp();
    await call(app, 'PUT', '/percent', { percent: 10 });
    const again = await call(app, 'PUT', '/percent', { percent: 10 });
    expect(again).toMatchObject({ status: 200, body: { changed: false, version: 1 } });
    await call(app, 'PUT', '/flags/templates', { enabled: true });
    const flagOn = await call(app, 'PUT', '/flags/templates', { enabled: true });
    expect(flagOn.body).toMatchObject({ changed: false, version: 2 });
    await call(app, 'PUT', '/kill', { canary: true });
    expect((await call(app, 'PUT', '/kill', { canary: true })).body).toMatchObject({
      changed: false,
      version: 3,
    });
    expect((await call(app, 'GET', '/audit')).body.entries).toHaveLength(3);
  });

  it('answers ?dryRun=1 with the config it would write, changing nothing', async () => {
    const app = testApp();
    await call(app, 'PUT', '/percent', { percent: 10 });
    const before = await kv.get('config');
    const dry = await call(app, 'PUT', '/percent?dryRun=1', { percent: 50 });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, changed: true, version: 2, currentVersion: 1 });
    expect(dry.body.config.rollout.percent).toBe(50);
    expect(JSON.stringify(dry.body.preview)).toContain('40 % of visitors move from stable to canary');
    expect(await kv.get('config')).toBe(before);
    expect((await call(app, 'GET', '/state')).body.version).toBe(1);
    expect((await call(app, 'GET', '/audit')).body.entries).toHaveLength(1);
    expect((await call(app, 'PUT', '/percent?dryRun=maybe', { percent: 50 })).status).toBe(400);
  });

  it('refuses a flag name the config does not have unless the write says create', async () => {
    const app = testApp();
    const typo = await call(app, 'PUT', '/flags/fileStorge', { enabled: true });
    expect(typo.status).toBe(400);
    expect(typo.body.issues[0]).toContain('known: fileStorage, templates, emailDelivery, analytics');
    const created = await call(app, 'PUT', '/flags/newFlag', { enabled: true, percent: 20, create: true });
    expect(created.status).toBe(200);
    expect(created.body.config.flags.newFlag).toEqual({ enabled: true, percent: 20, default: false });
  });
});

describe('the KV read replica', () => {
  it('catches up by itself after KV refused writes, while the splitter keeps serving', async () => {
    const app = testApp();
    await call(app, 'PUT', '/percent', { percent: 10 });
    const stub = CONTROL.get(CONTROL.idFromName(app.controlName));
    let failing = true;
    await runInDurableObject(stub, (instance: RolloutControl) => {
      const real = instance.replica.kv;
      instance.replica.kv = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if ((prop === 'put' || prop === 'delete') && failing)
            return async () => {
              throw new Error('KV PUT failed: 429 Too Many Requests');
            };
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    });
    const write = await call(app, 'PUT', '/percent', { percent: 20 });
    expect(write.status).toBe(200);
    expect(write.body.replica).toMatchObject({ committedVersion: 2, replicatedVersion: 1, lagging: true });
    expect(JSON.parse((await kv.get('config'))!).version).toBe(1);
    // Visitors are served throughout (this isolate already serves version 2).
    for (let i = 0; i < 5; i++) expect((await app.request(`/page-${i}`)).status).toBe(200);
    // Still failing: the alarm retries and keeps the state lagging, with the error.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const lagging = (await call(app, 'GET', '/state')).body;
    expect(lagging.replica).toMatchObject({ lagging: true, kvVersion: 1, failedAttempts: 2 });
    expect(lagging.replica.lastError).toContain('429');
    failing = false;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const state = (await call(app, 'GET', '/state')).body;
    expect(state.replica).toMatchObject({
      committedVersion: 2,
      replicatedVersion: 2,
      kvVersion: 2,
      lagging: false,
    });
    expect(JSON.parse((await kv.get('config'))!).rollout.percent).toBe(20);
  });
});

describe('first start on an existing deployment', () => {
  it('imports config, history and audit that a KV-only deployment left, once', async () => {
    const config = (version: number, percent: number) => ({
      version,
      rollout: { percent, salt: 'launch-1', state: 'ramping' },
    });
    await kv.put('config', JSON.stringify(config(115, 30)));
    await kv.put('history:0000000114', JSON.stringify(config(114, 20)));
    await kv.put('history:0000000115', JSON.stringify(config(115, 30)));
    const entry = (version: number, at: string) => ({
      id: `x${version}`,
      at,
      actor: 'token',
      action: 'set-percent',
      before: {},
      after: {},
      version,
    });
    await kv.put('audit:8235927999999:aaaaaa', JSON.stringify(entry(115, '2026-11-25T12:00:00.000Z')));
    await kv.put('audit:8235928999999:bbbbbb', JSON.stringify(entry(114, '2026-11-25T11:43:20.000Z')));
    await kv.put('kill', 'flag:templates');
    const app = testApp();
    const state = (await call(app, 'GET', '/state')).body;
    expect(state).toMatchObject({
      version: 115,
      percent: 30,
      kill: { sources: { api: null, hand: 'flag:templates' } },
    });
    const audit = (await call(app, 'GET', '/audit')).body.entries as { version: number }[];
    expect(audit.map((e) => e.version)).toEqual([115, 114]);
    // Imported once: KV edits after the first start never rewind the object.
    await kv.put('config', JSON.stringify(config(3, 99)));
    expect((await call(app, 'GET', '/state')).body.version).toBe(115);
    const undone = await call(app, 'POST', '/undo', undefined, '"115"');
    expect(undone.body).toMatchObject({ version: 116, config: { rollout: { percent: 20 } } });
    expect(await kv.get('kill')).toBe('flag:templates');
  });
});

describe('first start on a forged or broken KV (issue 21 L2)', () => {
  const config = (version: number, percent: number) => ({
    version,
    rollout: { percent, salt: 'launch-1', state: 'ramping' },
  });

  it('renumbers a config above version 1e9 and drops such history rows, so writes still work', async () => {
    const huge = Number.MAX_SAFE_INTEGER;
    await kv.put('config', JSON.stringify(config(huge, 30)));
    await kv.put('history:0000000007', JSON.stringify(config(7, 20)));
    await kv.put(`history:${huge}`, JSON.stringify(config(huge, 30)));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const app = testApp();
    const state = (await call(app, 'GET', '/state')).body;
    expect(state).toMatchObject({ version: 8, percent: 30, state: 'ramping' });
    // The replica holds the forged number: it is rewritten, never trusted.
    expect(state.replica.lagging).toBe(true);
    const logged = warn.mock.calls.map((args) => String(args[0]));
    warn.mockRestore();
    expect(logged.some((line) => line.includes(`KV config version ${huge} is above 1000000000`))).toBe(true);
    expect(logged.some((line) => line.includes(`history:${huge} is above version 1000000000`))).toBe(true);

    const abort = await call(app, 'POST', '/abort', { reason: 'p95' }, '"8"');
    expect(abort).toMatchObject({ status: 200, body: { version: 9 } });
    const kill = await call(app, 'PUT', '/kill', { canary: true }, '"9"');
    const unkill = await call(app, 'DELETE', '/kill', undefined, '"10"');
    expect([kill.status, unkill.status]).toEqual([200, 200]);
    const audit = (await call(app, 'GET', '/audit')).body.entries as { version: number; action: string }[];
    expect(audit.map((e) => [e.version, e.action])).toEqual([
      [11, 'unkill'],
      [10, 'kill'],
      [9, 'abort'],
    ]);
    const ramp = await call(app, 'PUT', '/percent', { percent: 5 }, '"11"');
    expect(ramp).toMatchObject({ status: 200, body: { version: 12 } });
  });

  it('marks imported audit entries as imported, so a forged guard abort is not the guard', async () => {
    await kv.put('config', JSON.stringify(config(4, 0)));
    await kv.put(
      'audit:8235927999999:aaaaaa',
      JSON.stringify({
        id: 'forged',
        at: '2026-11-25T12:00:00.000Z',
        actor: 'guard',
        action: 'abort',
        before: {},
        after: {},
        version: 4,
        reason: 'error rate 9 %',
      }),
    );
    const app = testApp();
    const entries = (await call(app, 'GET', '/audit')).body.entries as { id: string; actor: string }[];
    expect(entries).toEqual([expect.objectContaining({ id: 'forged', actor: 'imported:guard' })]);
  });
});

describe('failures', () => {
  it('answers 503 with a clear message and changes nothing when the object’s storage fails', async () => {
    const app = testApp();
    await call(app, 'PUT', '/percent', { percent: 10 });
    const stub = CONTROL.get(CONTROL.idFromName(app.controlName));
    const spy = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const exec = sql.exec.bind(sql);
      return vi.spyOn(sql, 'exec').mockImplementation(((query: string, ...bindings: unknown[]) => {
        if (/^INSERT OR REPLACE INTO history/.test(query))
          throw new Error('SQLITE_FULL: database or disk is full');
        return exec(query, ...bindings);
      }) as typeof sql.exec);
    });
    const refused = await call(app, 'PUT', '/percent', { percent: 50 });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('the control plane storage failed; nothing changed');
    spy.mockRestore();
    const state = (await call(app, 'GET', '/state')).body;
    expect(state).toMatchObject({ version: 1, percent: 10 });
    expect((await call(app, 'GET', '/audit')).body.entries).toHaveLength(1);
  });

  it('throttles failed logins per isolate, never through the object, and never refuses the right token', async () => {
    const controlName = uniqueControlName();
    const one = testApp({ controlName });
    const two = testApp({ controlName });
    const attempt = (app: ReturnType<typeof testApp>, token: string) =>
      app.request('/__rollout/state', {
        headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': '203.0.113.9' },
      });
    for (let i = 0; i < 10; i++) expect((await attempt(one, `wrong-${i}`)).status).toBe(401);
    expect((await attempt(one, 'wrong-10')).status).toBe(429);
    // Another isolate (another control app on the same object) has counted nothing.
    expect((await attempt(two, 'wrong-11')).status).toBe(401);
    expect((await attempt(one, TOKEN)).status).toBe(200);
    expect((await attempt(two, TOKEN)).status).toBe(200);
  });
});

describe('retention', () => {
  it('keeps the last N versions and audit entries, and never the current version’s row away', async () => {
    const stub = CONTROL.get(CONTROL.idFromName(uniqueControlName()));
    await runInDurableObject(stub, (_instance, state) => {
      const tables = new ControlTables(state.storage.sql, { history: 5, audit: 7 });
      for (let version = 0; version <= 20; version++) {
        tables.commit({
          version,
          config: { version } as unknown as RolloutConfig,
          kill: null,
          base: version - 1,
        });
        tables.appendAudit({
          id: String(version),
          at: '2026-11-25T12:00:00.000Z',
          actor: 'token',
          action: 'set-percent',
          before: {},
          after: {},
          version,
        });
      }
      const kept = state.storage.sql
        .exec<{ version: number }>('SELECT version FROM history ORDER BY version')
        .toArray();
      expect(kept.map((row) => row.version)).toEqual([16, 17, 18, 19, 20]);
      expect(tables.auditCount()).toBe(7);
      expect(tables.auditPage(3, undefined).entries.map((e) => JSON.parse(e).version)).toEqual([20, 19, 18]);
    });
  });
});

describe('the replica is verified by reading KV back (issue 21 M2b/c)', () => {
  it('shows drift in GET /state at once and repairs it: a config rewound and a kill:api deleted by hand', async () => {
    const app = testApp();
    await call(app, 'PUT', '/percent', { percent: 10 });
    const killed = await call(app, 'PUT', '/kill', { canary: true });
    expect(killed.body.replica).toMatchObject({ committedVersion: 2, lagging: false });
    const current = JSON.parse((await kv.get('config'))!) as RolloutConfig;
    const committed = JSON.parse((await kv.get('committed'))!) as {
      epoch: number;
      version: number;
      kill: string;
    };
    expect(committed).toMatchObject({ version: 2, kill: 'canary' });
    expect(committed.epoch).toBeGreaterThan(0);
    // By hand: an older config put back, the API kill deleted.
    await kv.put('config', JSON.stringify({ ...current, version: 1 }));
    await kv.delete('kill:api');
    const drift = (await call(app, 'GET', '/state')).body;
    expect(drift.replica).toMatchObject({ committedVersion: 2, kvVersion: 1, kvKill: null, lagging: true });
    // That read asked the object to read KV back and repair it (an alarm retries if KV refuses).
    const repaired = (await call(app, 'GET', '/state')).body;
    expect(repaired.replica).toMatchObject({
      committedVersion: 2,
      kvVersion: 2,
      kvKill: 'canary',
      lagging: false,
    });
    expect(await kv.get('kill:api')).toBe('canary');
    expect(JSON.parse((await kv.get('config'))!).version).toBe(2);
  });

  it('shows an unreadable hand kill as such, and as stopping the canary', async () => {
    const app = testApp();
    await kv.put('kill', `${'x'.repeat(5_890)} canary`);
    const state = (await call(app, 'GET', '/state')).body;
    expect(state.kill.canary).toBe(true);
    expect(state.kill.handUnreadable).toMatch(/longer than 4096/);
  });
});

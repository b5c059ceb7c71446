import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/admin/history-and-audit';
import type { RolloutConfig } from '../../src/config/config-schema';
import { testApp } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789abcdef';
const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;

function client(controlName?: string) {
  const app = testApp(controlName ? { controlName } : {});
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await app.request(`/__rollout${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'x-rollout-actor': 'ops', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  // Undo names the version it undoes, read from /state as the CLI does.
  const undo = async () => {
    const etag = (
      await app.request('/__rollout/state', { headers: { authorization: `Bearer ${TOKEN}` } })
    ).headers.get('etag')!;
    return call('POST', '/undo', undefined, { 'if-match': etag });
  };
  return { ...app, call, undo };
}

beforeEach(async () => {
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});

describe('audit log', () => {
  it('records one entry per change, newest first, with actor, action, before, after, version and reason', async () => {
    const { call, undo, clock } = client();
    const changes: [string, string, unknown, string][] = [
      ['PUT', '/percent', { percent: 10, reason: 'start' }, 'set-percent'],
      ['PUT', '/flags/templates', { enabled: true }, 'set-flag'],
      ['POST', '/pause', undefined, 'pause'],
      ['POST', '/resume', undefined, 'resume'],
      ['PUT', '/kill', { canary: true, reason: 'incident 42' }, 'kill'],
      ['DELETE', '/kill', undefined, 'unkill'],
      ['POST', '/promote', undefined, 'promote'],
      ['POST', '/abort', { reason: 'errors' }, 'abort'],
      ['POST', '/undo', undefined, 'undo'],
      ['PUT', '/config', { rollout: { percent: 5, salt: 'next' } }, 'replace-config'],
    ];
    const configs: RolloutConfig[] = [];
    for (const [method, path, body] of changes) {
      clock.advance(1000);
      const response = path === '/undo' ? await undo() : await call(method, path, body);
      expect(response.status, path).toBe(200);
      configs.push(response.body.config);
    }
    const { body } = await call('GET', '/audit');
    const entries = body.entries as AuditEntry[];
    expect(entries.map((e) => e.action)).toEqual(changes.map(([, , , action]) => action).reverse());
    expect(body.cursor).toBeNull();
    for (const entry of entries) expect(entry.actor).toBe('admin (ops)');
    const setPercent = entries.at(-1)!;
    expect(setPercent).toMatchObject({ version: 1, reason: 'start', at: '2026-11-25T12:00:01.000Z' });
    expect((setPercent.before as RolloutConfig).version).toBe(0);
    expect(setPercent.after).toEqual(configs[0]);
    const kill = entries.find((e) => e.action === 'kill')!;
    expect(kill).toMatchObject({
      before: { kill: null },
      after: { kill: 'canary' },
      reason: 'incident 42',
      // A kill is a version of its own: one version names everything visitors get.
      version: 5,
    });
    expect(entries.find((e) => e.action === 'abort')?.reason).toBe('errors');
  });

  it('pages with limit and cursor without losing or repeating entries', async () => {
    const { call, clock } = client();
    for (let percent = 1; percent <= 7; percent++) {
      clock.advance(10);
      await call('PUT', '/percent', { percent });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : '?limit=3';
      const { body } = await call('GET', `/audit${query}`);
      seen.push(...(body.entries as AuditEntry[]).map((e) => e.version));
      cursor = body.cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(pages).toBe(3);
  });
});

describe('undo', () => {
  it('restores the previous version exactly, as a new version, and keeps it in history', async () => {
    const { call, undo, clock } = client();
    await call('PUT', '/config', {
      rollout: { percent: 10, salt: 'launch-7', steps: [10, 50, 100], bakeMinutes: 30 },
      flags: { templates: { enabled: true, percent: 40, seed: 'tpl' } },
      bootstrapFlags: true,
    });
    const v1 = (await kv.get<RolloutConfig>('config', 'json'))!;
    clock.advance(60_000);
    await call('PUT', '/flags/templates', { enabled: false });
    const undone = await undo();
    expect(undone.status).toBe(200);
    expect(undone.body.version).toBe(3);
    // Same percent, so nothing differs but the version.
    expect(undone.body.config).toEqual({ ...v1, version: 3 });
    expect(await kv.get<RolloutConfig>('config', 'json')).toEqual(undone.body.config);
    // Version 3 is in history like any other: one more undo goes back past it, to version 0.
    const again = await undo();
    expect(again.body.version).toBe(4);
    expect(again.body.config.rollout.salt).toBe('default');
  });

  it('restarts the bake time when the undone change moved the percent', async () => {
    const { call, undo, clock } = client();
    await call('PUT', '/percent', { percent: 10 });
    const v1 = (await kv.get<RolloutConfig>('config', 'json'))!;
    clock.advance(3_600_000);
    await call('PUT', '/percent', { percent: 50 });
    clock.advance(60_000);
    const undone = await undo();
    const { stepStartedAt, ...rollout } = undone.body.config.rollout;
    const { stepStartedAt: original, ...expected } = v1.rollout;
    expect(rollout).toEqual(expected);
    expect({ ...undone.body.config, rollout: undefined, version: 0 }).toEqual({
      ...v1,
      rollout: undefined,
      version: 0,
    });
    expect(original).toBe('2026-11-25T12:00:00.000Z');
    expect(stepStartedAt).toBe('2026-11-25T13:01:00.000Z');
  });

  it('can undo the very first write, back to the starting config', async () => {
    const { call, undo } = client();
    const before = (await call('GET', '/state')).body.config as RolloutConfig;
    await call('PUT', '/percent', { percent: 10 });
    const undone = await undo();
    expect(undone.status).toBe(200);
    expect(undone.body.config).toEqual({
      ...before,
      version: 2,
      rollout: { ...before.rollout, stepStartedAt: expect.any(String) },
    });
    expect(undone.body.config.rollout.percent).toBe(0);
  });

  it('answers 409 when there is nothing to undo, and changes nothing', async () => {
    const { undo } = client();
    await kv.put('config', JSON.stringify({ version: 4, rollout: { percent: 0, salt: 'hand-written' } }));
    const response = await undo();
    expect(response.status).toBe(409);
    expect(response.body.error).toContain('nothing to undo');
    expect(JSON.parse((await kv.get('config'))!).version).toBe(4);
    expect((await kv.list({ prefix: 'audit:' })).keys).toEqual([]);
  });

  it('is refused with 428 without If-Match, and changes nothing (issue 21 L4)', async () => {
    const { call } = client();
    await call('PUT', '/percent', { percent: 10 });
    await call('PUT', '/percent', { percent: 20 });
    const response = await call('POST', '/undo');
    expect(response.status).toBe(428);
    expect(response.body.error).toBe(
      'undo needs If-Match: the version it undoes, as GET /state gives it (ETag), e.g. If-Match: "7"',
    );
    const state = (await call('GET', '/state')).body;
    expect(state).toMatchObject({ version: 2, percent: 20 });
  });

  it('of two undos sent at once for one version, one wins and the other gets 412: one version back', async () => {
    const { call, controlName } = client();
    // A second isolate on the same control plane.
    const other = client(controlName);
    await call('PUT', '/percent', { percent: 10 });
    await call('PUT', '/percent', { percent: 20 });
    await call('PUT', '/percent', { percent: 30 });
    const [a, b] = await Promise.all([
      call('POST', '/undo', undefined, { 'if-match': '"3"' }),
      other.call('POST', '/undo', undefined, { 'if-match': '"3"' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const state = (await call('GET', '/state')).body;
    expect(state).toMatchObject({ version: 4, percent: 20 });
  });
});

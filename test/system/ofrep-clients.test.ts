import { OFREPApi } from '@openfeature/ofrep-core';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { OpenFeature as ServerOpenFeature } from '@openfeature/server-sdk';
import { OpenFeature as WebOpenFeature } from '@openfeature/web-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucket, inPercent } from '../../src/split/bucket';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';
import type { EchoBody } from '../support/loopback/echo-origin';
import { putLocalKv } from '../support/wrangler-stub/local-kv';

// The stock OpenFeature clients against `wrangler dev`, compared with what the origin received:
// the OFREP answer and the x-feature-flags header must agree for every visitor.

const VISITORS = 200;
const TOKEN = 'ofrep-system-token-0123456789abcdef';
const FLAGS = { fileStorage: 50, templates: 25, emailDelivery: 0, analytics: 100 } as const;
type FlagName = keyof typeof FLAGS;
const SEEDS: Record<FlagName, string> = {
  fileStorage: 'fileStorage',
  templates: 'templates-v1',
  emailDelivery: 'emailDelivery',
  analytics: 'analytics',
};
const CONFIG = {
  version: 3,
  rollout: { percent: 30, salt: 'ofrep-system', state: 'ramping' },
  flags: {
    fileStorage: { enabled: true, percent: 50 },
    templates: { enabled: true, percent: 25, seed: 'templates-v1' },
    emailDelivery: { enabled: false },
    analytics: { enabled: true, percent: 100 },
  },
};

interface Visitor {
  id: string;
  /** What the origin received in x-feature-flags for this visitor's proxied request. */
  header: Record<FlagName, boolean>;
}

/** Polls (bounded) until `check` holds: the local KV write reaches the Worker within its cache period. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what}: not seen within 15 s`);
}

describe('OpenFeature clients against the OFREP endpoints of wrangler dev', () => {
  const world = localWorkerBehindEchoOrigins({
    ADMIN_TOKEN: TOKEN,
    CONFIG_CACHE_SECONDS: '1',
  });
  const visitors: Visitor[] = [];

  async function proxiedHeader(cookie?: string): Promise<{ id?: string; header: Record<FlagName, boolean> }> {
    const response = await fetch(`${world.worker.url}/app/page`, { headers: cookie ? { cookie } : {} });
    const echo = (await response.json()) as EchoBody;
    const issued = /^rollout_id=([^;]+);/.exec(response.headers.get('set-cookie') ?? '')?.[1];
    return { id: issued, header: JSON.parse(String(echo.headers['x-feature-flags'])) };
  }

  beforeAll(async () => {
    await putLocalKv(world.worker.persistDir, 'config', JSON.stringify(CONFIG));
    await eventually('the config', async () => {
      const response = await fetch(`${world.worker.url}/ofrep/flags`);
      return ((await response.json()) as { configVersion: number }).configVersion === 3;
    });
    // Each visitor arrives without a cookie, as in a browser: the splitter issues the id.
    for (let i = 0; i < VISITORS; i++) {
      const { id, header } = await proxiedHeader();
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      visitors.push({ id: id!, header });
    }
  }, 120_000);

  afterAll(async () => {
    await ServerOpenFeature.close();
    await WebOpenFeature.close();
  });

  it('gives 200 visitors × 4 flags the values the origin received, and the bucketing contract, by targetingKey and by cookie', async () => {
    const byKey = new OFREPProvider({ baseUrl: world.worker.url });
    let cookie = '';
    const byCookie = new OFREPProvider({
      baseUrl: world.worker.url,
      headersFactory: () => [['cookie', cookie]],
    });
    await ServerOpenFeature.setProviderAndWait('by-key', byKey);
    await ServerOpenFeature.setProviderAndWait('by-cookie', byCookie);
    const keyClient = ServerOpenFeature.getClient('by-key');
    const cookieClient = ServerOpenFeature.getClient('by-cookie');
    const reasons: Record<string, number> = {};
    let compared = 0;
    for (const visitor of visitors) {
      cookie = `rollout_id=${visitor.id}`;
      for (const flag of Object.keys(FLAGS) as FlagName[]) {
        const expected = visitor.header[flag];
        // The opposite default: a fallback to it could never pass for a real answer.
        const details = await keyClient.getBooleanDetails(flag, !expected, { targetingKey: visitor.id });
        const viaCookie = await cookieClient.getBooleanDetails(flag, !expected);
        for (const answer of [details, viaCookie]) {
          expect(answer.errorCode, `${visitor.id} ${flag}`).toBeUndefined();
          expect(answer.value, `${visitor.id} ${flag}`).toBe(expected);
          expect(answer.variant).toBe(expected ? 'on' : 'off');
          expect(answer.flagMetadata).toEqual({ configVersion: 3 });
        }
        expect(viaCookie.reason).toBe(details.reason);
        reasons[`${flag}:${details.reason}`] = (reasons[`${flag}:${details.reason}`] ?? 0) + 1;
        const enabled = flag !== 'emailDelivery';
        expect(expected).toBe(enabled && inPercent(bucket(SEEDS[flag], visitor.id), FLAGS[flag]));
        compared++;
      }
    }
    console.log(
      `ofrep-clients: ${compared} flag answers × 2 clients equal to x-feature-flags; reasons ${JSON.stringify(reasons)}`,
    );
    expect(compared).toBe(VISITORS * 4);
    expect(reasons['emailDelivery:DISABLED']).toBe(VISITORS);
    expect(reasons['analytics:STATIC']).toBe(VISITORS);
    expect(reasons['fileStorage:SPLIT']).toBeGreaterThan(0);
    expect(reasons['fileStorage:DEFAULT']).toBeGreaterThan(0);
  });

  it("gives an unknown flag the client's default with FLAG_NOT_FOUND, and TARGETING_KEY_MISSING without an id", async () => {
    await ServerOpenFeature.setProviderAndWait('plain', new OFREPProvider({ baseUrl: world.worker.url }));
    const client = ServerOpenFeature.getClient('plain');
    for (const fallback of [true, false]) {
      const details = await client.getBooleanDetails('noSuchFlag', fallback, {
        targetingKey: visitors[0]!.id,
      });
      expect(details).toMatchObject({ value: fallback, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    }
    const anonymous = await client.getBooleanDetails('templates', true, {});
    expect(anonymous).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
    const wrongType = await client.getStringDetails('templates', 'x', { targetingKey: visitors[0]!.id });
    expect(wrongType).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
  });

  it("bulk: the web provider gets the same values, 304 for an unchanged context, and never another context's tag", async () => {
    const statuses: number[] = [];
    const recordingFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    };
    const provider = new OFREPWebProvider({
      baseUrl: world.worker.url,
      cacheMode: 'disabled',
      pollInterval: 0,
      fetchImplementation: recordingFetch,
    });
    const [first, second] = visitors;
    await WebOpenFeature.setContext({ targetingKey: first!.id });
    await WebOpenFeature.setProviderAndWait(provider);
    const client = WebOpenFeature.getClient();
    const valuesOf = () =>
      Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, client.getBooleanValue(flag, false)]));
    expect(valuesOf()).toEqual(first!.header);
    // Same targeting key, another attribute: the provider revalidates with If-None-Match.
    await WebOpenFeature.setContext({ targetingKey: first!.id, plan: 'pro' });
    expect(statuses).toEqual([200, 304]);
    expect(valuesOf()).toEqual(first!.header);
    await WebOpenFeature.setContext({ targetingKey: second!.id });
    expect(statuses).toEqual([200, 304, 200]);
    expect(valuesOf()).toEqual(second!.header);

    // The protocol client itself: a tag never validates another context.
    const api = new OFREPApi(world.worker.url);
    const one = await api.postBulkEvaluateFlags({ context: { targetingKey: first!.id } });
    const tag = one.httpResponse!.headers.get('etag')!;
    const again = await api.postBulkEvaluateFlags(
      { context: { targetingKey: first!.id } },
      { headers: [['If-None-Match', tag]] },
    );
    expect(again.httpStatus).toBe(304);
    for (const other of visitors.slice(1, 50)) {
      const crossed = await api.postBulkEvaluateFlags(
        { context: { targetingKey: other.id } },
        { headers: [['If-None-Match', tag]] },
      );
      expect(crossed.httpStatus).toBe(200);
    }
  });

  it('a flag killed by a hand KV edit is off in OFREP as in the proxy, and the bulk tag changes', async () => {
    const watched = visitors.find((v) => v.header.templates)!;
    const api = new OFREPApi(world.worker.url);
    const before = await api.postBulkEvaluateFlags({ context: { targetingKey: watched.id } });
    const tag = before.httpResponse!.headers.get('etag')!;
    await putLocalKv(world.worker.persistDir, 'kill', 'flag:templates');
    await eventually('the kill switch at the proxy', async () => {
      const { header } = await proxiedHeader(`rollout_id=${watched.id}`);
      return header.templates === false;
    });
    await ServerOpenFeature.setProviderAndWait(
      'after-kill',
      new OFREPProvider({ baseUrl: world.worker.url }),
    );
    const client = ServerOpenFeature.getClient('after-kill');
    for (const visitor of visitors) {
      const { header } = await proxiedHeader(`rollout_id=${visitor.id}`);
      expect(header).toEqual({ ...visitor.header, templates: false });
      const details = await client.getBooleanDetails('templates', true, { targetingKey: visitor.id });
      expect(details).toMatchObject({ value: false, reason: 'DISABLED', variant: 'off' });
      expect(details.flagMetadata).toEqual({ configVersion: 3, killed: true });
    }
    const after = await api.postBulkEvaluateFlags(
      { context: { targetingKey: watched.id } },
      { headers: [['If-None-Match', tag]] },
    );
    expect(after.httpStatus).toBe(200);
    expect(after.httpResponse!.headers.get('etag')).not.toBe(tag);
  });

  it('a flag killed through the admin API is off in OFREP as in the proxy', async () => {
    const killed = await fetch(`${world.worker.url}/__rollout/kill`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ flags: ['fileStorage'] }),
    });
    expect(killed.status, await killed.text()).toBe(200);
    // The write commits in the control Worker; the edge sees it on its next refresh (seconds:
    // docs/KILL-SWITCH.md), not in the same request.
    const first = visitors.find((visitor) => visitor.header.fileStorage)!;
    for (let attempt = 0; (await proxiedHeader(`rollout_id=${first.id}`)).header.fileStorage; attempt++) {
      if (attempt > 40) throw new Error('the kill never reached the edge');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const client = ServerOpenFeature.getClient('after-kill');
    for (const visitor of visitors) {
      const { header } = await proxiedHeader(`rollout_id=${visitor.id}`);
      expect(header.fileStorage).toBe(false);
      const details = await client.getBooleanDetails('fileStorage', true, { targetingKey: visitor.id });
      expect(details).toMatchObject({ value: false, reason: 'DISABLED', variant: 'off' });
    }
  });

  it('reads string, number and object flags by targetingKey and by context attributes, equal to x-feature-flags', async () => {
    // Written last by hand in KV, newer than anything the control plane committed above.
    const typed = {
      version: 50,
      rollout: { percent: 30, salt: 'ofrep-system', state: 'ramping' },
      flags: {
        banner: {
          type: 'string',
          variants: { a: 'blue', b: 'green', pro: 'gold' },
          offVariant: 'a',
          rules: [
            { when: [{ attribute: 'header.x-plan', op: 'in', values: ['pro'] }], serve: { variant: 'pro' } },
          ],
          fallthrough: { split: { a: 50, b: 50 } },
        },
        limit: {
          type: 'number',
          variants: { low: 10, high: 100 },
          offVariant: 'low',
          fallthrough: { split: { low: 50, high: 50 } },
        },
        theme: {
          type: 'json',
          variants: { light: { bg: '#fff' }, dark: { bg: '#000' } },
          offVariant: 'light',
          fallthrough: { split: { light: 50, dark: 50 } },
        },
      },
    };
    await putLocalKv(world.worker.persistDir, 'config', JSON.stringify(typed));
    await eventually('the typed config', async () => {
      const response = await fetch(`${world.worker.url}/ofrep/flags`);
      return ((await response.json()) as { configVersion: number }).configVersion === 50;
    });
    const client = ServerOpenFeature.getClient('plain');
    const seen = { banner: new Set<unknown>(), limit: new Set<unknown>(), theme: new Set<string>() };
    for (const [index, visitor] of visitors.slice(0, 40).entries()) {
      const pro = index % 4 === 0;
      const response = await fetch(`${world.worker.url}/app/page`, {
        headers: { cookie: `rollout_id=${visitor.id}`, ...(pro ? { 'x-plan': 'pro' } : {}) },
      });
      const header = JSON.parse(String(((await response.json()) as EchoBody).headers['x-feature-flags'])) as {
        banner: string;
        limit: number;
        theme: { bg: string };
      };
      const context = { targetingKey: visitor.id, ...(pro ? { 'header.x-plan': 'pro' } : {}) };
      const banner = await client.getStringDetails('banner', 'none', context);
      const limit = await client.getNumberDetails('limit', -1, context);
      const theme = await client.getObjectDetails('theme', {}, context);
      for (const answer of [banner, limit, theme]) expect(answer.errorCode, visitor.id).toBeUndefined();
      expect(banner.value, visitor.id).toBe(header.banner);
      expect(limit.value, visitor.id).toBe(header.limit);
      expect(theme.value, visitor.id).toEqual(header.theme);
      if (pro) expect(banner.value, `${visitor.id} is pro`).toBe('gold');
      seen.banner.add(banner.value);
      seen.limit.add(limit.value);
      seen.theme.add(JSON.stringify(theme.value));
    }
    // Both variants of every split, and the rule, were reached.
    expect([...seen.banner].sort()).toEqual(['blue', 'gold', 'green']);
    expect([...seen.limit].sort()).toEqual([10, 100]);
    expect(seen.theme.size).toBe(2);
  });
});

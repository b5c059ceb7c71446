import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { setCookies } from '../support/core-fixtures';
import { seededVisitorIds } from '../support/fixtures/seeded-random';
import { configAt, countingKv, putConfig, testApp } from '../support/in-workerd/test-app';
import type { EchoBody } from '../support/loopback/echo-origin';

const FLAGS = ['fileStorage', 'templates', 'emailDelivery', 'analytics'];
const BULK = '/ofrep/v1/evaluate/flags';

async function appWith(vars: Record<string, string> = {}, config: unknown = configAt(20)) {
  const app = testApp({ vars });
  await app.kv.delete('kill');
  await putConfig(app.kv, config);
  return app;
}

type App = Awaited<ReturnType<typeof appWith>>;

function post(app: App, path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The flags the origin received in x-feature-flags for a proxied request with this cookie. */
async function proxiedFlags(app: App, id: string): Promise<Record<string, boolean>> {
  const response = await app.request('/api/whoami', { headers: { cookie: `rollout_id=${id}` } });
  const echo = (await response.json()) as EchoBody;
  return JSON.parse(String(echo.headers['x-feature-flags'])) as Record<string, boolean>;
}

describe('OFREP single-flag and bulk evaluation', () => {
  it('answers each of 40 visitors with the values the origin received in x-feature-flags, by cookie or by targetingKey', async () => {
    const app = await appWith();
    for (const id of seededVisitorIds(1501, 40)) {
      const expected = await proxiedFlags(app, id);
      const byCookie = await post(app, BULK, {}, { cookie: `rollout_id=${id}` });
      expect(byCookie.status).toBe(200);
      const bulk = (await byCookie.json()) as { flags: { key: string; value: boolean }[] };
      expect(Object.fromEntries(bulk.flags.map((f) => [f.key, f.value]))).toEqual(expected);
      for (const flag of FLAGS) {
        const single = await post(app, `${BULK}/${flag}`, { context: { targetingKey: id } });
        expect(single.status).toBe(200);
        const body = (await single.json()) as Record<string, unknown>;
        expect(body).toMatchObject({
          key: flag,
          value: expected[flag],
          variant: expected[flag] ? 'on' : 'off',
        });
        expect(body.metadata).toEqual({ configVersion: 1 });
      }
    }
  });

  it('never proxies the OFREP paths and issues no cookie there', async () => {
    const app = await appWith();
    for (const [method, path] of [
      ['POST', '/ofrep/v1/evaluate'],
      ['GET', '/ofrep'],
      ['GET', '/ofrep/v2/evaluate/flags'],
    ] as const) {
      const response = await app.request(path, { method, body: method === 'POST' ? '{}' : undefined });
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({ errorDetails: 'no such OFREP endpoint' });
      expect(response.headers.get('x-rollout-cohort')).toBeNull();
      expect(setCookies(response.headers)).toEqual([]);
    }
    const get = await app.request(BULK);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    // Anything merely starting with the same letters is the app's.
    const proxied = await app.request('/ofrepx/page');
    expect(((await proxied.json()) as EchoBody).path).toBe('/ofrepx/page');
  });

  it('answers the spec error codes with 400 or 404, never a 5xx', async () => {
    const app = await appWith();
    const cookie = { cookie: 'rollout_id=visitor-0001' };
    const cases: [string, string, Record<string, string>, number, Record<string, unknown>][] = [
      [`${BULK}/templates`, '{', cookie, 400, { key: 'templates', errorCode: 'PARSE_ERROR' }],
      [`${BULK}/templates`, '[1]', cookie, 400, { key: 'templates', errorCode: 'PARSE_ERROR' }],
      [`${BULK}/templates`, '{"context":{"targetingKey":7}}', cookie, 400, { errorCode: 'INVALID_CONTEXT' }],
      [
        `${BULK}/templates`,
        '{"context":{}}',
        {},
        400,
        { key: 'templates', errorCode: 'TARGETING_KEY_MISSING' },
      ],
      [`${BULK}/nope`, '{}', cookie, 404, { key: 'nope', errorCode: 'FLAG_NOT_FOUND' }],
      [`${BULK}/constructor`, '{}', cookie, 404, { key: 'constructor', errorCode: 'FLAG_NOT_FOUND' }],
      [
        `${BULK}/${'x'.repeat(1000)}`,
        '{}',
        cookie,
        404,
        { key: 'x'.repeat(256), errorCode: 'FLAG_NOT_FOUND' },
      ],
      [BULK, '{"context":"x"}', cookie, 400, { errorCode: 'INVALID_CONTEXT' }],
      [BULK, '{}', { cookie: 'rollout_id=bad' }, 400, { errorCode: 'TARGETING_KEY_MISSING' }],
      [BULK, JSON.stringify({ context: { pad: 'x'.repeat(20_000) } }), cookie, 400, { errorCode: 'GENERAL' }],
    ];
    for (const [path, body, headers, status, expected] of cases) {
      const response = await post(app, path, body, headers);
      expect(response.status, `${path.slice(0, 60)} ${body.slice(0, 40)}`).toBe(status);
      const json = (await response.json()) as Record<string, unknown>;
      expect(json).toMatchObject(expected);
      expect(typeof json.errorDetails).toBe('string');
      if (path === BULK) expect(json).not.toHaveProperty('key');
    }
    const notUtf8 = await app.request(BULK, {
      method: 'POST',
      headers: cookie,
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    expect(notUtf8.status).toBe(400);
    expect(await notUtf8.json()).toMatchObject({ errorCode: 'PARSE_ERROR' });
  });

  it('marks answers private and reads the config through the splitter store: one KV read per cache period', async () => {
    const counted = countingKv((env as unknown as ControlEnv).ROLLOUT);
    const app = testApp({ kv: counted.kv });
    await putConfig(app.kv, configAt(20));
    await app.kv.delete('kill');
    const before = counted.reads();
    for (let i = 0; i < 10; i++) {
      const response = await post(app, `${BULK}/templates`, { context: { targetingKey: `visitor-${i}000` } });
      expect(response.headers.get('cache-control')).toBe('private, no-cache');
      await post(app, BULK, {}, { cookie: `rollout_id=visitor-${i}000` });
      await app.request('/page', { headers: { cookie: `rollout_id=visitor-${i}000` } });
    }
    expect(counted.reads() - before).toBe(1);
  });
});

describe('OFREP bulk ETag', () => {
  it('answers 304 without a body for the same tag, and a new tag after a config write or a hand KV kill edit', async () => {
    const app = await appWith();
    const cookie = { cookie: 'rollout_id=visitor-0001' };
    const first = await post(app, BULK, {}, cookie);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"ofrep-[A-Za-z0-9_-]{22}"$/);
    const again = await post(app, BULK, {}, { ...cookie, 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);

    // Another context never matches this tag, even with the same answers.
    const other = await post(
      app,
      BULK,
      { context: { targetingKey: 'visitor-0002' } },
      { 'if-none-match': etag },
    );
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);

    await app.kv.put('kill', 'flag:analytics');
    app.clock.advance(6_000);
    const killed = await post(app, BULK, {}, { ...cookie, 'if-none-match': etag });
    expect(killed.status).toBe(200);
    const body = (await killed.json()) as { flags: { key: string; value: boolean; reason: string }[] };
    expect(body.flags.find((f) => f.key === 'analytics')).toMatchObject({ value: false, reason: 'DISABLED' });
    expect((await proxiedFlags(app, 'visitor-0001')).analytics).toBe(false);
    const killedTag = killed.headers.get('etag')!;

    await putConfig(app.kv, { ...configAt(20), version: 2 });
    app.clock.advance(6_000);
    const written = await post(app, BULK, {}, { ...cookie, 'if-none-match': killedTag });
    expect(written.status).toBe(200);
    expect(written.headers.get('etag')).not.toBe(killedTag);
  });
  it('answers If-None-Match: * with 200, the body and the tag: it names no earlier answer, and a POST evaluation always has one', async () => {
    const app = await appWith();
    const cookie = { cookie: 'rollout_id=visitor-0001' };
    const plain = await post(app, BULK, {}, cookie);
    const expected = await plain.text();
    for (const validator of ['*', 'W/"x", *']) {
      const star = await post(app, BULK, {}, { ...cookie, 'if-none-match': validator });
      expect(star.status, validator).toBe(200);
      expect(await star.text()).toBe(expected);
      expect(star.headers.get('etag')).toBe(plain.headers.get('etag'));
    }
  });
});

describe('OFREP and the kill switch', () => {
  it('answers a killed flag with what x-feature-flags sends (false, even with default true), reason DISABLED and killed in the metadata', async () => {
    const config = configAt(20);
    const app = await appWith(
      {},
      {
        ...config,
        flags: { ...config.flags, templates: { enabled: true, percent: 50, default: true } },
      },
    );
    await app.kv.put('kill', 'flag:templates');
    const cookie = { cookie: 'rollout_id=visitor-0001' };
    expect((await proxiedFlags(app, 'visitor-0001')).templates).toBe(false);
    const single = await post(app, `${BULK}/templates`, {}, cookie);
    expect(await single.json()).toEqual({
      key: 'templates',
      value: false,
      reason: 'DISABLED',
      variant: 'off',
      metadata: { configVersion: 1, killed: true },
    });
    const bulk = (await (await post(app, BULK, {}, cookie)).json()) as { flags: { key: string }[] };
    expect(bulk.flags.find((f) => f.key === 'templates')).toMatchObject({
      value: false,
      reason: 'DISABLED',
      metadata: { killed: true },
    });
  });
});

describe('OFREP and the QA override cookie', () => {
  it("applies the override to the cohort only when the id hashed is the request's own visitor, never to an explicit targetingKey", async () => {
    // At 0 %, only an override sends anyone to the canary.
    const app = await appWith({}, configAt(0));
    const link = await app.admin('POST', '/override-link', { cohort: 'canary', ttlSeconds: 600 });
    expect(link.status).toBe(200);
    const { pathname, search } = new URL((link.body as { url: string }).url);
    const opened = await app.request(`${pathname}${search}`, { redirect: 'manual' });
    const override = (opened.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(override).toMatch(/^rollout_override=canary\./);
    const cookie = { cookie: `rollout_id=qa-browser-01; ${override}` };
    const cohortOf = async (path: string, context: Record<string, unknown>) => {
      const response = await post(app, path, { context: { includeCohort: true, ...context } }, cookie);
      expect(response.status, path).toBe(200);
      return ((await response.json()) as { metadata: { cohort: string } }).metadata.cohort;
    };
    for (const path of [BULK, `${BULK}/templates`]) {
      // The browser's own visitor, by cookie or by the same id named in the context: pinned, as its pages are.
      expect(await cohortOf(path, {})).toBe('canary');
      expect(await cohortOf(path, { targetingKey: 'qa-browser-01' })).toBe('canary');
      // Someone else, evaluated from the QA browser: split as the splitter splits them (0 %: stable).
      expect(await cohortOf(path, { targetingKey: 'visitor-0042' })).toBe('stable');
    }
    const page = await app.request('/dashboard', { headers: cookie });
    expect(page.headers.get('x-rollout-cohort')).toBe('canary');
  });
});

describe('OFREP API key', () => {
  const KEY = 'ofrep-key-0123456789';

  it('answers 401 without the key, 403 with a wrong one (no body), and 200 with Bearer or X-API-Key', async () => {
    const app = await appWith({ OFREP_API_KEY: KEY });
    const body = { context: { targetingKey: 'visitor-0001' } };
    const missing = await post(app, BULK, body);
    expect(missing.status).toBe(401);
    expect(await missing.text()).toBe('');
    for (const headers of [
      { authorization: 'Bearer wrong-key-0123456789' },
      { 'x-api-key': 'nope' },
    ] as Record<string, string>[]) {
      const wrong = await post(app, BULK, body, headers);
      expect(wrong.status).toBe(403);
      expect(await wrong.text()).toBe('');
    }
    expect((await post(app, BULK, body, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    expect((await post(app, `${BULK}/templates`, body, { 'x-api-key': KEY })).status).toBe(200);
    expect((await app.request('/ofrep/flags', { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect((await app.request('/ofrep/flags')).status).toBe(401);
    // Preflights carry no credentials and still pass.
    expect((await app.request(BULK, { method: 'OPTIONS' })).status).toBe(204);
  });
});

describe('OFREP access is chosen at deploy time (issue 21 L8)', () => {
  const KEY = 'ofrep-key-0123456789';
  const body = { context: { targetingKey: 'visitor-0001' } };

  it.each(['production', 'staging'])(
    'in %s with neither OFREP_API_KEY nor OFREP_ACCESS, answers 403 on every OFREP route and logs why; visitors are served',
    async (environment) => {
      const app = await appWith({ ENVIRONMENT: environment });
      for (const response of [
        await post(app, BULK, body),
        await post(app, `${BULK}/templates`, body),
        await app.request('/ofrep/flags'),
        await app.request('/ofrep/v1/configuration'),
      ]) {
        expect(response.status).toBe(403);
        expect(await response.text()).toBe('');
      }
      expect(app.logger.lines).toContainEqual({
        level: 'error',
        message: 'OFREP is closed',
        fields: {
          reason: `ENVIRONMENT is ${environment} and neither the OFREP_API_KEY secret nor OFREP_ACCESS = "public" is set: every OFREP request answers 403 (docs/OFREP.md)`,
        },
      });
      const page = await app.request('/dashboard', { headers: { cookie: 'rollout_id=visitor-0001' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('x-rollout-cohort')).toBe('stable');
    },
  );

  it('in production, OFREP_ACCESS = "public" opens it and OFREP_API_KEY gates it', async () => {
    const open = await appWith({ ENVIRONMENT: 'production', OFREP_ACCESS: 'public' });
    expect((await post(open, BULK, body)).status).toBe(200);
    const keyed = await appWith({ ENVIRONMENT: 'production', OFREP_API_KEY: KEY });
    expect((await post(keyed, BULK, body)).status).toBe(401);
    expect((await post(keyed, BULK, body, { authorization: `Bearer ${KEY}` })).status).toBe(200);
  });

  it('development stays open; an OFREP_ACCESS other than "public" closes it anywhere, naming the value', async () => {
    expect((await post(await appWith({ ENVIRONMENT: 'development' }), BULK, body)).status).toBe(200);
    const typo = await appWith({ OFREP_ACCESS: 'pubilc' });
    expect((await post(typo, BULK, body)).status).toBe(403);
    expect(typo.logger.lines.find((line) => line.message === 'OFREP is closed')?.fields?.reason).toBe(
      'OFREP_ACCESS is "pubilc": the only value is "public" (or leave it out and set the OFREP_API_KEY secret)',
    );
    expect((await typo.request('/dashboard')).status).toBe(200);
  });
});

describe('OFREP in browsers', () => {
  const APP_ORIGIN = 'https://shop.example.com';

  it('answers preflights and exposes ETag for the configured origins only', async () => {
    const app = await appWith({ OFREP_CORS_ORIGINS: `${APP_ORIGIN},http://localhost:5173` });
    const preflight = await app.request(BULK, {
      method: 'OPTIONS',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, if-none-match',
      },
    });
    expect(preflight.status).toBe(204);
    expect(Object.fromEntries(preflight.headers)).toMatchObject({
      'access-control-allow-origin': APP_ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type, If-None-Match, X-API-Key',
      vary: 'Origin',
    });
    const answer = await post(app, BULK, {}, { origin: APP_ORIGIN, cookie: 'rollout_id=visitor-0001' });
    expect(answer.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(answer.headers.get('access-control-expose-headers')).toBe('ETag');

    const stranger = await app.request(BULK, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(stranger.status).toBe(204);
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    expect(stranger.headers.get('access-control-allow-methods')).toBeNull();
    const strangerPost = await post(
      app,
      BULK,
      {},
      { origin: 'https://evil.example', cookie: 'rollout_id=visitor-0001' },
    );
    expect(strangerPost.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends no CORS headers when no origin is configured', async () => {
    const app = await appWith();
    const answer = await post(app, BULK, {}, { origin: APP_ORIGIN, cookie: 'rollout_id=visitor-0001' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('vary')).toBeNull();
  });
});

describe('OFREP_BASE_PATH', () => {
  it('moves the endpoints under a base path and gives /ofrep back to the app', async () => {
    const app = await appWith({ OFREP_BASE_PATH: '/edge' });
    const moved = await post(app, `/edge${BULK}/templates`, { context: { targetingKey: 'visitor-0001' } });
    expect(moved.status).toBe(200);
    const proxied = await post(app, `${BULK}/templates`, {});
    expect(((await proxied.json()) as EchoBody).path).toBe(`${BULK}/templates`);
  });

  it('turns the endpoints off: /ofrep is proxied like any path', async () => {
    const app = await appWith({ OFREP_BASE_PATH: 'off' });
    const proxied = await post(app, BULK, {});
    expect(proxied.status).toBe(200);
    expect(((await proxied.json()) as EchoBody).origin).toMatch(/stable|canary/);
  });
});

describe('the JSON flags route', () => {
  it("returns the visitor's flags and cohort for their cookie, as the proxy decides them, never cached", async () => {
    const app = await appWith({}, configAt(50));
    for (const id of seededVisitorIds(1502, 20)) {
      const response = await app.request('/ofrep/flags', { headers: { cookie: `rollout_id=${id}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(setCookies(response.headers)).toEqual([]);
      const body = (await response.json()) as {
        flags: Record<string, boolean>;
        cohort: string;
        configVersion: number;
      };
      const page = await app.request('/page', { headers: { cookie: `rollout_id=${id}` } });
      const echo = (await page.json()) as EchoBody;
      expect(body).toEqual({
        flags: JSON.parse(String(echo.headers['x-feature-flags'])),
        cohort: echo.origin,
        configVersion: 1,
      });
    }
  });

  it('issues the visitor cookie to a first-time visitor, and the next proxied request agrees with it', async () => {
    const app = await appWith({}, configAt(50));
    const first = await app.request('/ofrep/flags');
    const cookie = setCookies(first.headers)[0]!;
    expect(cookie).toMatch(
      /^rollout_id=[A-Za-z0-9_-]{22}; Path=\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax$/,
    );
    const id = /^rollout_id=([^;]+)/.exec(cookie)![1]!;
    const body = (await first.json()) as { flags: Record<string, boolean> };
    expect(body.flags).toEqual(await proxiedFlags(app, id));
  });
});

describe('typed flags: x-feature-flags and OFREP give the same typed values', () => {
  const typedConfig = configAt(0, {
    segments: { pro: { when: [{ attribute: 'header.x-plan', op: 'equals', value: 'pro' }] } },
    flags: {
      legacy: { enabled: true, percent: 50 },
      invoiceTemplateVersion: {
        type: 'string',
        variants: { classic: 'v1', modern: 'v2' },
        offVariant: 'classic',
        rules: [{ when: [{ segment: 'pro' }], serve: { variant: 'modern' } }],
        fallthrough: { split: { classic: 50, modern: 50 } },
      },
      pageSize: {
        type: 'number',
        variants: { small: 20, large: 100 },
        offVariant: 'small',
        rules: [
          { when: [{ attribute: 'path', op: 'startsWith', values: ['/api/'] }], serve: { variant: 'large' } },
        ],
      },
      banner: {
        type: 'json',
        variants: { none: {}, beta: { text: 'beta' } },
        offVariant: 'none',
        rules: [
          { when: [{ attribute: 'cookie.plan', op: 'in', values: ['beta'] }], serve: { variant: 'beta' } },
        ],
      },
    },
  });

  it('answers 20 visitors with the values the origin received, by cookie (request attributes) and by context', async () => {
    const app = await appWith({}, typedConfig);
    for (const [i, id] of seededVisitorIds(2401, 20).entries()) {
      const pro = i % 2 === 0;
      const headers = {
        cookie: `rollout_id=${id}; plan=${pro ? 'beta' : 'free'}`,
        ...(pro ? { 'x-plan': 'pro' } : {}),
      };
      const page = await app.request('/api/whoami', { headers });
      const echo = (await page.json()) as EchoBody;
      const expected = JSON.parse(String(echo.headers['x-feature-flags'])) as Record<string, unknown>;
      expect(expected.pageSize).toBe(100);
      expect(expected.banner).toEqual(pro ? { text: 'beta' } : {});
      // The page's path is the app's: the context names it; header and cookie come from the request.
      const own = await post(app, BULK, { context: { path: '/api/whoami' } }, headers);
      const ownBody = (await own.json()) as { flags: { key: string; value: unknown }[] };
      expect(Object.fromEntries(ownBody.flags.map((f) => [f.key, f.value]))).toEqual(expected);
      const context = {
        targetingKey: id,
        path: '/api/whoami',
        'cookie.plan': pro ? 'beta' : 'free',
        ...(pro ? { 'header.x-plan': 'pro' } : {}),
      };
      const single = await post(app, `${BULK}/invoiceTemplateVersion`, { context });
      expect(await single.json()).toMatchObject({
        key: 'invoiceTemplateVersion',
        value: expected.invoiceTemplateVersion,
        variant: expected.invoiceTemplateVersion === 'v2' ? 'modern' : 'classic',
        reason: pro ? 'TARGETING_MATCH' : 'SPLIT',
      });
    }
  });
});

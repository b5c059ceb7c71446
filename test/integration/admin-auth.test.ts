import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TeamDomainSchema } from '../../worker/control/admin/admin-auth';
import { testApp } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789abcdef';
const TEAM = 'https://edge-team.cloudflareaccess.com';
const COCKPIT = 'https://cockpit.localhost';
const AUD = 'edge-rollout-aud-123';

type Keys = { privateKey: CryptoKey; publicJwk: JWK };
let signing: Keys;
let stranger: Keys;

async function keyPair(kid: string): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function jwt(
  keys: Keys,
  nowMs: number,
  claims: { email?: string; iss?: string; aud?: string; expInSeconds?: number } = {},
): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({ email: claims.email ?? 'ops@example.com' })
    .setProtectedHeader({ alg: 'RS256', kid: keys.publicJwk.kid! })
    .setIssuer(claims.iss ?? TEAM)
    .setAudience(claims.aud ?? AUD)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (claims.expInSeconds ?? 600))
    .sign(keys.privateKey);
}

beforeAll(async () => {
  signing = await keyPair('access-key-1');
  stranger = await keyPair('access-key-1');
});

let jwksRequests = 0;
beforeEach(async () => {
  jwksRequests = 0;
  const realFetch = globalThis.fetch;
  // The Access certs endpoint, answered in-process; everything else goes out unchanged.
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url === `${TEAM}/cdn-cgi/access/certs`) {
      jwksRequests++;
      return Response.json({ keys: [signing.publicJwk] });
    }
    return realFetch(input, init);
  });
  const { env } = await import('cloudflare:workers');
  const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;
  for (const key of (await kv.list()).keys) await kv.delete(key.name);
});
afterEach(() => vi.restoreAllMocks());

const state = (headers: Record<string, string>) => ({
  headers: { 'cf-connecting-ip': '203.0.113.7', ...headers },
});

describe('admin authentication with a bearer token', () => {
  it('rejects a missing, wrong, wrong-length or malformed token with 401 and a Bearer challenge', async () => {
    const { request } = testApp({ vars: { ENVIRONMENT: 'production' } });
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN.slice(0, -1)}x`,
      `Bearer ${TOKEN}0`,
      'Bearer x',
      `Basic ${btoa(`admin:${TOKEN}`)}`,
      `Bearer`,
      `Bearer ${TOKEN} extra`,
      TOKEN,
    ]) {
      const response = await request('/__rollout/state', state(authorization ? { authorization } : {}));
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toEqual({ error: 'unauthorized' });
    }
  });

  it('accepts the right token, whatever the scheme’s case', async () => {
    const { request } = testApp();
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const response = await request('/__rollout/state', state({ authorization }));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { version: number }).version).toBe(0);
    }
  });

  it('answers /health without credentials and says nothing else', async () => {
    const { request } = testApp();
    const response = await request('/__rollout/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('in development, adds to the 401 that `npm start` makes a fresh token on each start', async () => {
    const { request } = testApp({ vars: { ENVIRONMENT: 'development' } });
    const response = await request('/__rollout/state', state({ authorization: 'Bearer stale-token' }));
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: string; issues: string[] };
    expect(body.error).toBe('unauthorized');
    expect(body.issues.join(' ')).toMatch(/`npm start` makes a fresh admin token on each start/);
  });

  it('records the token name and the person from x-rollout-actor, and refuses a malformed label with 400 changing nothing', async () => {
    const { request, kv } = testApp();
    const put = (actor: string) =>
      request('/__rollout/percent', {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'x-rollout-actor': actor },
        body: JSON.stringify({ percent: 5 }),
      });
    const bad = await put('alice; rm -rf');
    expect(bad.status).toBe(400);
    expect(await kv.get('config')).toBeNull();
    expect((await put('alice@example.com')).status).toBe(200);
    const audit = (await (
      await request('/__rollout/audit', { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { entries: { actor: string }[] };
    expect(audit.entries.map((e) => e.actor)).toEqual(['admin (alice@example.com)']);
  });

  it('throttles failures only: 429 after 10 a minute from an address, while the right token still passes', async () => {
    const { request, clock } = testApp();
    const from = (ip: string, authorization: string) =>
      request('/__rollout/state', { headers: { 'cf-connecting-ip': ip, authorization } });
    for (let i = 0; i < 10; i++) expect((await from('198.51.100.1', 'Bearer wrong')).status).toBe(401);
    for (let i = 0; i < 10; i++) {
      const throttled = await from('198.51.100.1', 'Bearer wrong');
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
    // 20 failures from this address, and the valid token passes from it at once.
    expect((await from('198.51.100.1', `Bearer ${TOKEN}`)).status).toBe(200);
    // Another address is not affected.
    expect((await from('198.51.100.2', 'Bearer wrong')).status).toBe(401);
    clock.advance(60_000);
    expect((await from('198.51.100.1', 'Bearer wrong')).status).toBe(401);
  });

  it('counts an IPv6 /64 as one address, so rotating inside it does not escape the throttle', async () => {
    const { request } = testApp();
    const from = (ip: string) =>
      request('/__rollout/state', { headers: { 'cf-connecting-ip': ip, authorization: 'Bearer wrong' } });
    for (let i = 0; i < 10; i++)
      expect((await from(`2001:db8:0:7::${(i + 1).toString(16)}`)).status).toBe(401);
    expect((await from('2001:db8:0:7:ffff:ffff:ffff:ffff')).status).toBe(429);
    expect((await from('2001:db8:0:8::1')).status).toBe(401);
  });
});

describe('admin authentication with a Cloudflare Access JWT', () => {
  // Access guards the cockpit's own origin; on the app's host only the bearer token counts.
  const accessApp = () => {
    const app = testApp({ vars: { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD } });
    const request = (path: string, init?: RequestInit) => app.request(`${COCKPIT}${path}`, init);
    return { ...app, request, onAppHost: app.request };
  };

  it('ignores an Access JWT on the app host, where any script of the app could send it', async () => {
    const { onAppHost, request, clock, kv } = accessApp();
    const token = await jwt(signing, clock.now(), { email: 'lead@example.com' });
    const write = await onAppHost('/__rollout/percent', {
      method: 'PUT',
      headers: { 'cf-access-jwt-assertion': token },
      body: JSON.stringify({ percent: 1 }),
    });
    expect(write.status).toBe(401);
    expect(await kv.get('config')).toBeNull();
    const read = await request('/__rollout/state', { headers: { 'cf-access-jwt-assertion': token } });
    expect(read.status).toBe(200);
  });

  it('accepts a valid JWT from the team’s JWKS and audits the change under the Access email', async () => {
    const { request, clock } = accessApp();
    const token = await jwt(signing, clock.now(), { email: 'lead@example.com' });
    const response = await request('/__rollout/percent', {
      method: 'PUT',
      headers: { 'cf-access-jwt-assertion': token },
      body: JSON.stringify({ percent: 1 }),
    });
    expect(response.status).toBe(200);
    expect(jwksRequests).toBe(1);
    const audit = (await (
      await request('/__rollout/audit', { headers: { 'cf-access-jwt-assertion': token } })
    ).json()) as { entries: { actor: string }[] };
    expect(audit.entries[0]?.actor).toBe('lead@example.com');
  });

  it('rejects a garbage, foreign-key, expired, wrong-audience or wrong-issuer JWT with 401', async () => {
    const { request, clock } = accessApp();
    const now = clock.now();
    const cases: Record<string, string> = {
      garbage: 'not.a.jwt',
      'signed by another key': await jwt(stranger, now),
      expired: await jwt(signing, now, { expInSeconds: -10 }),
      'wrong audience': await jwt(signing, now, { aud: 'another-app' }),
      'wrong issuer': await jwt(signing, now, { iss: 'https://evil.cloudflareaccess.com' }),
      'tampered payload': (await jwt(signing, now)).replace(
        /\.([^.]+)\./,
        (_, p: string) => `.${p.slice(0, -2)}AA.`,
      ),
    };
    for (const [name, token] of Object.entries(cases)) {
      const response = await request('/__rollout/state', state({ 'cf-access-jwt-assertion': token }));
      expect(response.status, name).toBe(401);
    }
  });

  it('refuses writes a browser sends from another site, even with a valid Access JWT, and changes nothing', async () => {
    const { request, clock, kv } = accessApp();
    const token = await jwt(signing, clock.now());
    const write = (headers: Record<string, string>) =>
      request('/__rollout/abort', {
        method: 'POST',
        headers: { 'cf-access-jwt-assertion': token, ...headers },
      });
    const crossSite: Record<string, string>[] = [
      { origin: 'https://evil.example', 'content-type': 'text/plain' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'https://admin.example.com' },
    ];
    for (const headers of crossSite) {
      const response = await write(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(await response.json()).toEqual({ error: 'cross-origin admin writes are refused' });
    }
    expect(await kv.get('config')).toBeNull();
    // The app's own pages, and tools that send no Origin (curl, the CLI), still work.
    const sameOrigin = await request('/__rollout/percent', {
      method: 'PUT',
      headers: {
        'cf-access-jwt-assertion': token,
        origin: COCKPIT,
        'sec-fetch-site': 'same-origin',
      },
      body: '{"percent":1}',
    });
    expect(sameOrigin.status).toBe(200);
    const read = await request('/__rollout/state', {
      headers: { 'cf-access-jwt-assertion': token, origin: 'https://evil.example' },
    });
    expect(read.status).toBe(200);
  });

  it('still accepts the bearer token when Access is configured too', async () => {
    const { request } = accessApp();
    expect((await request('/__rollout/state', state({ authorization: `Bearer ${TOKEN}` }))).status).toBe(200);
  });

  it('accepts https team domains and loopback http ones (for local JWKS servers), nothing else', () => {
    for (const ok of [TEAM, 'http://127.0.0.1:8787', 'http://localhost:9000'])
      expect(TeamDomainSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['http://team.cloudflareaccess.com', 'ftp://x', 'https://t.example/path', 'team'])
      expect(TeamDomainSchema.safeParse(bad).success, bad).toBe(false);
  });
});

describe('admin API without credentials configured', () => {
  it('answers 503 admin disabled on every authenticated route, never serving it unauthenticated', async () => {
    const { request, kv } = testApp({ vars: { ADMIN_TOKEN: '' } });
    for (const [method, path] of [
      ['GET', '/state'],
      ['PUT', '/percent'],
      ['POST', '/abort'],
      ['GET', '/audit'],
      ['GET', '/openapi.json'],
    ] as const) {
      const response = await request(`/__rollout${path}`, {
        method,
        headers: { authorization: 'Bearer ' },
        ...(method === 'PUT' ? { body: '{"percent":50}' } : {}),
      });
      expect(response.status, path).toBe(503);
      expect(((await response.json()) as { error: string }).error).toMatch(/^admin disabled/);
    }
    expect(await kv.get('config')).toBeNull();
  });

  it('keeps Access off when only half of it is configured', async () => {
    const { request, clock } = testApp({ vars: { ADMIN_TOKEN: '', ACCESS_TEAM_DOMAIN: TEAM } });
    const response = await request(
      '/__rollout/state',
      state({ 'cf-access-jwt-assertion': await jwt(signing, clock.now()) }),
    );
    expect(response.status).toBe(503);
  });
});

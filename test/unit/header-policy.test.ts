import { setCookies } from '../support/core-fixtures';
import { describe, expect, it } from 'vitest';
import {
  privateCacheControl,
  buildClientResponseHeaders,
  buildOriginRequestHeaders,
} from '../../src/proxy/header-policy';

const context = {
  cohort: 'canary' as const,
  flags: { templates: true, analytics: false },
  publicUrl: new URL('https://app.example.com/a?b=1'),
  visitorIp: '203.0.113.7',
  webSocket: false,
};

describe('origin request headers', () => {
  it('drops client-sent rollout headers, hop-by-hop headers and unverifiable forwarding headers', () => {
    const inbound = new Headers({
      'x-rollout-cohort': 'canary',
      'X-Rollout-Anything': 'x',
      'x-feature-flags': '{"admin":true}',
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': 'drop me',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'x-forwarded-for': '6.6.6.6',
      forwarded: 'for=6.6.6.6',
      accept: 'text/html',
      cookie: 'rollout_id=abcdefgh',
    });
    const headers = buildOriginRequestHeaders(inbound, { ...context, cohort: 'stable', flags: {} });
    expect(headers.get('x-rollout-cohort')).toBe('stable');
    expect(headers.get('x-rollout-anything')).toBeNull();
    expect(headers.get('x-feature-flags')).toBe('{}');
    for (const name of ['connection', 'x-secret-hop', 'keep-alive', 'te', 'forwarded'])
      expect(headers.get(name)).toBeNull();
    expect(headers.get('x-forwarded-for')).toBe('203.0.113.7');
    expect(headers.get('accept')).toBe('text/html');
    expect(headers.get('cookie')).toBe('rollout_id=abcdefgh');
  });

  it('adds the flags as a JSON object and the forwarded host and proto', () => {
    const headers = buildOriginRequestHeaders(new Headers(), context);
    expect(JSON.parse(headers.get('x-feature-flags')!)).toEqual({ templates: true, analytics: false });
    expect(headers.get('x-forwarded-host')).toBe('app.example.com');
    expect(headers.get('x-forwarded-proto')).toBe('https');
  });

  it('keeps Upgrade and Connection for a WebSocket handshake', () => {
    const headers = buildOriginRequestHeaders(new Headers({ upgrade: 'websocket', connection: 'Upgrade' }), {
      ...context,
      webSocket: true,
    });
    expect(headers.get('upgrade')).toBe('websocket');
    expect(headers.get('connection')).toBe('Upgrade');
  });
});

describe('client response headers', () => {
  const base = {
    cohort: 'canary' as const,
    originBases: ['http://127.0.0.1:8701/v1', 'http://127.0.0.1:8702'],
    publicOrigin: 'https://app.example.com',
  };

  it('keeps every Set-Cookie and appends the visitor cookie', () => {
    const upstream = new Headers();
    upstream.append('set-cookie', 'a=1; Path=/');
    upstream.append('set-cookie', 'b=2; Path=/; HttpOnly');
    const headers = buildClientResponseHeaders(upstream, {
      ...base,
      setCookie: 'rollout_id=abcdefgh; Path=/',
    });
    expect(setCookies(headers)).toEqual([
      'a=1; Path=/',
      'b=2; Path=/; HttpOnly',
      'rollout_id=abcdefgh; Path=/',
    ]);
  });

  it('rewrites redirects to the origin host onto the public host and leaves others alone', () => {
    const own = buildClientResponseHeaders(
      new Headers({ location: 'http://127.0.0.1:8702/login?next=%2F' }),
      base,
    );
    expect(own.get('location')).toBe('https://app.example.com/login?next=%2F');
    const foreign = buildClientResponseHeaders(
      new Headers({ location: 'https://idp.example.net/auth' }),
      base,
    );
    expect(foreign.get('location')).toBe('https://idp.example.net/auth');
    const relative = buildClientResponseHeaders(new Headers({ location: '/next' }), base);
    expect(relative.get('location')).toBe('/next');
    // The other cohort's origin, and an origin's own path prefix, never reach the browser.
    const prefixed = buildClientResponseHeaders(
      new Headers({ location: 'http://127.0.0.1:8701/v1/login' }),
      base,
    );
    expect(prefixed.get('location')).toBe('https://app.example.com/login');
    const root = buildClientResponseHeaders(new Headers({ location: 'http://127.0.0.1:8701/v1' }), base);
    expect(root.get('location')).toBe('https://app.example.com/');
    const lookalike = buildClientResponseHeaders(
      new Headers({ location: 'http://127.0.0.1:8701/v10/x' }),
      base,
    );
    expect(lookalike.get('location')).toBe('http://127.0.0.1:8701/v10/x');
  });

  it('tells the client its cohort and drops origin-sent rollout and hop-by-hop headers', () => {
    const headers = buildClientResponseHeaders(
      new Headers({
        'x-rollout-cohort': 'stable',
        connection: 'x-private',
        'x-private': '1',
        'transfer-encoding': 'chunked',
      }),
      base,
    );
    expect(headers.get('x-rollout-cohort')).toBe('canary');
    expect(headers.get('x-private')).toBeNull();
    expect(headers.get('transfer-encoding')).toBeNull();
  });
});

describe('privateCacheControl', () => {
  it.each([
    ['public, max-age=600, s-maxage=3600', 'private, max-age=600'],
    ['s-maxage=60', 'private'],
    ['Public, max-age=60', 'private, max-age=60'],
    ['private, max-age=60', 'private, max-age=60'],
    ['no-store', 'no-store'],
    ['max-age=60', 'max-age=60'],
  ])('turns %j into %j so no shared cache mixes cohorts', (input, expected) => {
    expect(privateCacheControl(input)).toBe(expected);
  });

  it('leaves a missing header missing', () => {
    expect(privateCacheControl(null)).toBeNull();
  });
});

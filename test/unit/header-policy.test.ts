import { setCookies } from '../support/core-fixtures';
import { describe, expect, it } from 'vitest';
import {
  privateCacheControl,
  buildClientResponseHeaders,
  isSharedCachePath,
} from '../../src/proxy/client-response-headers';
import { buildOriginRequestHeaders } from '../../src/proxy/origin-request-headers';

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

  it('drops every other hop-by-hop header from a WebSocket handshake', () => {
    const headers = buildOriginRequestHeaders(
      new Headers({
        upgrade: 'websocket',
        connection: 'Upgrade, x-hop',
        'x-hop': 'connection-scoped',
        'proxy-authorization': 'Basic c2VjcmV0',
        te: 'trailers',
        'keep-alive': 'timeout=5',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      }),
      { ...context, webSocket: true },
    );
    expect(headers.get('upgrade')).toBe('websocket');
    expect(headers.get('sec-websocket-key')).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    for (const name of ['x-hop', 'proxy-authorization', 'te', 'keep-alive'])
      expect(headers.get(name)).toBeNull();
  });
});

describe('client response headers', () => {
  const base = {
    cohort: 'canary' as const,
    originBases: ['http://127.0.0.1:8701/v1', 'http://127.0.0.1:8702'],
    servedOrigin: 'http://127.0.0.1:8702',
    publicUrl: new URL('https://app.example.com/'),
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
    // Outside the prefix the path cannot be made public exactly, but the origin's host never leaks.
    expect(lookalike.get('location')).toBe('https://app.example.com/v10/x');
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
    ['max-age=60', 'private, max-age=60'],
    ['no-cache', 'private, no-cache'],
  ])('turns %j into %j so no shared cache mixes cohorts', (input, expected) => {
    expect(privateCacheControl(input)).toBe(expected);
  });

  it('makes a missing header private', () => {
    expect(privateCacheControl(null)).toBe('private');
  });
});

describe('headers a CGI-style origin would confuse with ours', () => {
  // WSGI, CGI and Rack read `_` and `-` as the same character (HTTP_X_FEATURE_FLAGS), so a
  // client's `x_feature_flags` would merge with, or stand in for, the header the Worker sets.
  it.each([
    'x_rollout_cohort',
    'X-Rollout_Cohort',
    'x_rollout-debug',
    'x_feature_flags',
    'X_Feature-Flags',
    'x_forwarded_for',
    'x-forwarded_host',
    'X_Forwarded_Proto',
    'x-forwarded-port',
    'x-forwarded-prefix',
    'x-real-ip',
    'x_real_ip',
    'true-client-ip',
    'true_client_ip',
    'cf_connecting_ip',
    'client-ip',
    'X-Client-IP',
    'x_cluster_client_ip',
    'fastly-client-ip',
    'x-original-forwarded-for',
  ])('drops a client-sent %s', (name) => {
    const headers = buildOriginRequestHeaders(new Headers({ [name]: 'spoofed' }), context);
    for (const [, value] of headers) expect(value).not.toContain('spoofed');
  });

  it('drops spellings of the identity header but keeps the header itself', () => {
    const inbound = new Headers({ 'x-user-id': 'u-1', x_user_id: 'u-666', 'X-User_Id': 'u-777' });
    const headers = buildOriginRequestHeaders(inbound, { ...context, identityHeader: 'x-user-id' });
    expect(headers.get('x-user-id')).toBe('u-1');
    expect(headers.get('x_user_id')).toBeNull();
    expect(headers.get('x-user_id')).toBeNull();
  });

  it('keeps unrelated headers that happen to contain an underscore', () => {
    const headers = buildOriginRequestHeaders(new Headers({ x_app_trace: 't-1' }), context);
    expect(headers.get('x_app_trace')).toBe('t-1');
  });
});

describe('Expect: 100-continue', () => {
  it('is not forwarded: the runtime handles continuation with the client itself', () => {
    const headers = buildOriginRequestHeaders(new Headers({ expect: '100-continue' }), context);
    expect(headers.get('expect')).toBeNull();
  });
});

describe('redirects from path-prefixed origins', () => {
  const prefixed = {
    cohort: 'canary' as const,
    originBases: ['http://127.0.0.1:8701/v1', 'http://127.0.0.1:8701/v2'],
    servedOrigin: 'http://127.0.0.1:8701/v2',
    publicUrl: new URL('https://app.example.com/account/settings?tab=1'),
  };
  const location = (value: string) =>
    buildClientResponseHeaders(new Headers({ location: value }), prefixed).get('location');

  it.each([
    ['a relative Location under the prefix', '/v2/login', '/login'],
    ['a relative Location with a query and fragment', '/v2/login?next=%2F#top', '/login?next=%2F#top'],
    ['a path-relative Location', 'profile', '/account/profile'],
    ['an upper-case scheme and host', 'HTTP://127.0.0.1:8701/v2/x', 'https://app.example.com/x'],
    ['a scheme-relative Location', '//127.0.0.1:8701/v2/x', 'https://app.example.com/x'],
    ['the other cohort’s prefix', 'http://127.0.0.1:8701/v1/x', 'https://app.example.com/x'],
    ['the origin outside both prefixes', 'http://127.0.0.1:8701/other', 'https://app.example.com/other'],
    ['the prefix root', 'http://127.0.0.1:8701/v2', 'https://app.example.com/'],
    ['a foreign host', 'https://idp.example.net/auth?x=1', 'https://idp.example.net/auth?x=1'],
    ['a foreign scheme-relative host', '//idp.example.net/auth', '//idp.example.net/auth'],
  ])('rewrites %s: %s → %s', (_name, value, expected) => {
    expect(location(value)).toBe(expected);
  });
});

describe('what shared caches may store', () => {
  const base = {
    cohort: 'canary' as const,
    originBases: ['http://127.0.0.1:8701', 'http://127.0.0.1:8702'],
    servedOrigin: 'http://127.0.0.1:8702',
    publicUrl: new URL('https://app.example.com/'),
  };
  const cdnHeaders = {
    'cdn-cache-control': 'max-age=600',
    'cloudflare-cdn-cache-control': 'max-age=600',
    'surrogate-control': 'max-age=600',
  };

  it('makes an ordinary response private and removes the CDN-only cache headers', () => {
    const headers = buildClientResponseHeaders(
      new Headers({ 'cache-control': 'max-age=600', ...cdnHeaders }),
      base,
    );
    expect(headers.get('cache-control')).toBe('private, max-age=600');
    for (const name of Object.keys(cdnHeaders)) expect(headers.get(name)).toBeNull();
  });

  it('makes a response without Cache-Control private too (CDNs cache by extension)', () => {
    expect(buildClientResponseHeaders(new Headers(), base).get('cache-control')).toBe('private');
  });

  it('turns Expires into the max-age it meant, so no HTTP/1.0 cache stores the page', () => {
    const headers = buildClientResponseHeaders(
      new Headers({ date: 'Wed, 25 Nov 2026 12:00:00 GMT', expires: 'Wed, 25 Nov 2026 12:10:00 GMT' }),
      base,
    );
    expect(headers.get('expires')).toBeNull();
    expect(headers.get('cache-control')).toBe('private, max-age=600');
    const invalid = buildClientResponseHeaders(new Headers({ expires: '0' }), base);
    expect(invalid.get('cache-control')).toBe('private, max-age=0');
  });

  it('lets a shared path stay cacheable as the origin said', () => {
    const headers = buildClientResponseHeaders(
      new Headers({ 'cache-control': 'public, max-age=31536000, immutable', ...cdnHeaders }),
      { ...base, sharedPath: true },
    );
    expect(headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(headers.get('cdn-cache-control')).toBe('max-age=600');
  });

  it.each([
    ['it sets the visitor cookie', { setCookie: 'rollout_id=abcdefgh; Path=/' }, {}, 'private, max-age=600'],
    ['the origin sets a cookie', {}, { 'set-cookie': 'session=1; Path=/' }, 'private, max-age=600'],
    // Injected flags also drop the validators: the page must be fetched again, never revalidated.
    ['flags are injected into it', { injectsFlags: true }, {}, 'private, no-cache'],
  ])('keeps a shared path private when %s', (_name, extra, upstream, cacheControl) => {
    const headers = buildClientResponseHeaders(
      new Headers({ 'cache-control': 'public, max-age=600', ...cdnHeaders, ...upstream }),
      { ...base, sharedPath: true, ...extra },
    );
    expect(headers.get('cache-control')).toBe(cacheControl);
    expect(headers.get('cdn-cache-control')).toBeNull();
  });
});

describe('shared cache paths', () => {
  it.each([
    ['/assets/app.3f9a.js', ['/assets/'], true],
    ['/assets', ['/assets/'], false],
    ['/assets/app.js', ['/assets'], true],
    ['/assets-private/x', ['/assets'], false],
    ['/favicon.ico', ['/favicon.ico'], true],
    ['/', [], false],
    ['/assets/..%2faccount', ['/assets/'], false],
    ['/assets/%2E%2E/account', ['/assets/'], false],
    ['/assets/..%5Caccount', ['/assets/'], false],
    ['/assets/../account', ['/assets/'], false],
    ['/assets/./app.js', ['/assets/'], false],
    ['/assets/app%20v2.js', ['/assets/'], true],
    ['/assets/app..v2.js', ['/assets/'], true],
  ])('%s under %j → %s', (path, prefixes, shared) => {
    expect(isSharedCachePath(path, prefixes)).toBe(shared);
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config-schema';
import { safeDefaultConfig } from '../../src/config/config-schema';
import { parseSettings } from '../../src/config/settings';

const valid = { version: 3, rollout: { percent: 10, salt: 'launch-1' } };

describe('config schema', () => {
  it('fills defaults for stickiness, flags, failover and routes', () => {
    const result = parseConfig(JSON.stringify(valid));
    expect(result.ok && result.config).toMatchObject({
      rollout: { percent: 10, state: 'idle', bakeMinutes: 15 },
      stickiness: { cookieName: 'rollout_id', maxAgeSeconds: 2_592_000 },
      failover: { statuses: [502, 503, 504], timeoutMs: 10_000 },
      flags: {},
      routes: [],
      bootstrapFlags: false,
    });
  });

  it.each([
    ['broken JSON', '{"version":'],
    ['percent above 100', { ...valid, rollout: { percent: 100.5, salt: 's' } }],
    ['percent with three decimals', { ...valid, rollout: { percent: 10.005, salt: 's' } }],
    ['a percent too small to be a bucket', { ...valid, rollout: { percent: 0.000000001, salt: 's' } }],
    ['negative percent', { ...valid, rollout: { percent: -1, salt: 's' } }],
    ['percent as a string', { ...valid, rollout: { percent: '10', salt: 's' } }],
    ['unknown top-level field', { ...valid, extra: true }],
    ['unknown rollout state', { ...valid, rollout: { percent: 1, salt: 's', state: 'live' } }],
    ['bad flag name', { ...valid, flags: { 'bad name': { enabled: true } } }],
    [
      'origin with credentials',
      { ...valid, origins: { stable: 'https://u:p@a.example', canary: 'https://b.example' } },
    ],
    ['non-http origin', { ...valid, origins: { stable: 'ftp://a.example', canary: 'https://b.example' } }],
    ['failover status outside 5xx', { ...valid, failover: { statuses: [404] } }],
    ['version missing', { rollout: valid.rollout }],
    ['an array', [valid]],
    ['a percent between buckets, however close to 0', { ...valid, rollout: { percent: 5e-324, salt: 's' } }],
    [
      'a percent between buckets, however close to 10',
      { ...valid, rollout: { percent: 10 + 1e-12, salt: 's' } },
    ],
  ])('rejects %s with readable issues', (_name, input) => {
    const result = parseConfig(typeof input === 'string' ? input : JSON.stringify(input));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.length).toBeGreaterThan(0);
  });

  it.each([
    ['a valid flag', '{"enabled":true}'],
    ['an invalid flag', '{"enabled":"nope"}'],
  ])('refuses a flag named __proto__ (%s) instead of dropping it', (_name, flag) => {
    const text = `{"version":3,"rollout":{"percent":10,"salt":"s"},"flags":{"ok":{"enabled":true},"__proto__":${flag}}}`;
    const result = parseConfig(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.join('\n')).toContain('__proto__');
  });

  it('says that a business route pattern must start with /', () => {
    const route = { name: 'invoice_created', method: 'POST', pattern: 'api/invoices' };
    expect(parseConfig({ ...valid, routes: [route] })).toEqual({
      ok: false,
      issues: ['routes.0.pattern: must start with /'],
    });
    expect(parseConfig({ ...valid, routes: [{ ...route, pattern: '/api/invoices' }] }).ok).toBe(true);
  });

  it('accepts two-decimal percents without float noise', () => {
    for (const percent of [0, 0.01, 0.07, 0.29, 1.15, 10.01, 33.33, 57.58, 99.99, 100]) {
      expect(parseConfig({ ...valid, rollout: { percent, salt: 's' } }).ok).toBe(true);
    }
  });

  it('builds a safe default: 0 % canary, flags at their declared defaults', () => {
    const config = safeDefaultConfig({ analytics: true, templates: false });
    expect(config.rollout.percent).toBe(0);
    expect(config.flags.analytics).toMatchObject({ enabled: false, default: true });
    expect(config.flags.templates).toMatchObject({ enabled: false, default: false });
  });
});

describe('settings (env vars)', () => {
  const vars = { STABLE_ORIGIN: 'http://127.0.0.1:1', CANARY_ORIGIN: 'http://127.0.0.1:2' };

  it('parses the vars with defaults', () => {
    const result = parseSettings({ ...vars, ROLLOUT: {} });
    expect(result.ok && result.settings).toMatchObject({
      ADMIN_PREFIX: '/__rollout',
      CONFIG_CACHE_SECONDS: 5,
      DEFAULT_FLAGS: {},
    });
  });

  it.each([
    ['STABLE_ORIGIN', { ...vars, STABLE_ORIGIN: 'not a url' }],
    ['CANARY_ORIGIN', { STABLE_ORIGIN: vars.STABLE_ORIGIN }],
    ['DEFAULT_FLAGS', { ...vars, DEFAULT_FLAGS: '{"a":' }],
    ['DEFAULT_FLAGS', { ...vars, DEFAULT_FLAGS: '{"a":"yes"}' }],
    ['CONFIG_CACHE_SECONDS', { ...vars, CONFIG_CACHE_SECONDS: 'five' }],
    ['CONFIG_CACHE_SECONDS', { ...vars, CONFIG_CACHE_SECONDS: '0' }],
    ['ADMIN_PREFIX', { ...vars, ADMIN_PREFIX: 'rollout' }],
    ['DEFAULT_FLAGS', { ...vars, DEFAULT_FLAGS: '{"__proto__":true}' }],
    ['ADMIN_TOKEN', { ...vars, ADMIN_TOKEN: 'a'.repeat(31) }],
    ['ADMIN_TOKEN', { ...vars, ADMIN_TOKEN: 'x' }],
    ['SHARED_CACHE_PATHS', { ...vars, SHARED_CACHE_PATHS: 'assets/' }],
    ['SHARED_CACHE_PATHS', { ...vars, SHARED_CACHE_PATHS: '/a b/' }],
  ])('names %s when it is invalid', (name, input) => {
    const result = parseSettings(input);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.join('\n')).toContain(name);
  });
});

describe('ADMIN_TOKEN and SHARED_CACHE_PATHS', () => {
  const vars = { STABLE_ORIGIN: 'http://127.0.0.1:1', CANARY_ORIGIN: 'http://127.0.0.1:2' };

  it('accepts an admin token of 32 characters, and none at all (unset or empty: admin API off)', () => {
    expect(parseSettings({ ...vars, ADMIN_TOKEN: 'a'.repeat(32) }).ok).toBe(true);
    expect(parseSettings(vars).ok).toBe(true);
    expect(parseSettings({ ...vars, ADMIN_TOKEN: '' }).ok).toBe(true);
  });

  it('says how long the admin token must be', () => {
    const result = parseSettings({ ...vars, ADMIN_TOKEN: 'short' });
    expect(!result.ok && result.issues.join('\n')).toMatch(/ADMIN_TOKEN.*at least 32 characters/);
  });

  it('reads shared cache paths as a comma-separated list, none by default', () => {
    const result = parseSettings({ ...vars, SHARED_CACHE_PATHS: '/assets/, /favicon.ico' });
    expect(result.ok && result.settings.SHARED_CACHE_PATHS).toEqual(['/assets/', '/favicon.ico']);
    const none = parseSettings(vars);
    expect(none.ok && none.settings.SHARED_CACHE_PATHS).toEqual([]);
  });
});

describe('the demo config', () => {
  it('is a valid config with the four invoicing flags', async () => {
    const { readFile } = await import('node:fs/promises');
    const result = parseConfig(await readFile('scripts/demo/demo-config.json', 'utf8'));
    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys(result.config.flags)).toEqual([
      'fileStorage',
      'templates',
      'emailDelivery',
      'analytics',
    ]);
  });
});

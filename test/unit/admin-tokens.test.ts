import { describe, expect, it } from 'vitest';
import {
  AdminTokensSchema,
  findToken,
  roleAllows,
  ROLES,
  sha256Of,
  toHex,
  tokenActor,
  tokenHashLine,
} from '../../src/admin/tokens';
import { parseSettings } from '../../src/config/settings';
import { FailureThrottle, MAX_THROTTLED_ADDRESSES, throttleKey } from '../../worker/control/admin/admin-auth';

const HEX = 'a'.repeat(64);
const OTHER_HEX = 'b'.repeat(64);

function issues(text: string): string {
  const result = AdminTokensSchema.safeParse(text);
  return result.success ? '' : result.error.issues.map((issue) => issue.message).join('\n');
}

describe('ADMIN_TOKENS', () => {
  it('reads name:role:sha256 entries separated by newlines, commas or spaces, skipping comments', () => {
    const parsed = AdminTokensSchema.parse(
      `# who holds what: docs/TOKENS.md\nalice:operator:${HEX}\n\n bob:viewer:${'B'.repeat(64)}, relay:events:${'c'.repeat(43)}`,
    );
    expect(parsed.map(({ name, role }) => `${name}:${role}`)).toEqual([
      'alice:operator',
      'bob:viewer',
      'relay:events',
    ]);
    expect(toHex(parsed[1]!.sha256)).toBe('b'.repeat(64));
    expect(parsed[2]!.sha256).toHaveLength(32);
  });

  it('allows one name twice with one role (a rotation), not with two roles', () => {
    expect(AdminTokensSchema.safeParse(`ci:operator:${HEX}\nci:operator:${OTHER_HEX}`).success).toBe(true);
    expect(issues(`ci:operator:${HEX}\nci:admin:${OTHER_HEX}`)).toMatch(
      /entry 2: ci is listed as both operator and admin/,
    );
  });

  it.each([
    ['alice', /entry 1 is not name:role:sha256/],
    [`alice:root:${HEX}`, /entry 1 \(alice\): the role must be one of admin, operator, viewer, events/],
    ['alice:viewer:not-a-hash', /the hash must be a SHA-256 in 64 hex digits or 43 base64url/],
    [`alice:viewer:${HEX.slice(1)}`, /the hash must be a SHA-256/],
    [`al ice:viewer:${HEX}`, /entry 1 is not name:role:sha256/],
    [`alice:viewer:${HEX}:extra`, /entry 1 is not name:role:sha256/],
    [`a/b:viewer:${HEX}`, /a token name is 1–64 chars/],
    [`a:viewer:${HEX}\nb:viewer:${HEX.toUpperCase()}`, /entry 2 \(b\): the same token hash is listed twice/],
  ])('refuses %j, naming the entry and never echoing a hash', (text, message) => {
    const described = issues(text);
    expect(described).toMatch(/^ADMIN_TOKENS: /);
    expect(described).toMatch(message);
    expect(described).not.toContain(HEX.slice(0, 20));
  });

  it('refuses more than 100 entries', () => {
    const many = Array.from({ length: 101 }, (_, i) => `t${i}:viewer:${i.toString(16).padStart(64, '0')}`);
    expect(issues(many.join('\n'))).toMatch(/at most 100 tokens/);
  });

  it('finds the entry whose hash is the token’s SHA-256, and none for another token', async () => {
    const tokens = AdminTokensSchema.parse(
      [
        tokenHashLine('alice', 'operator', await sha256Of('alice-secret')),
        tokenHashLine('bob', 'viewer', await sha256Of('bob-secret')),
      ].join('\n'),
    );
    expect(findToken(tokens, await sha256Of('bob-secret'))?.name).toBe('bob');
    expect(findToken(tokens, await sha256Of('bob-secret '))).toBeUndefined();
    expect(findToken(tokens, new Uint8Array(31))).toBeUndefined();
  });

  it('hashes like sha256sum: the line for "abc" carries its well-known digest', async () => {
    expect(tokenHashLine('x', 'viewer', await sha256Of('abc'))).toBe(
      'x:viewer:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('the role table', () => {
  it('gives each role exactly its permissions', () => {
    const table = Object.fromEntries(
      ROLES.map((role) => [
        role,
        (['read', 'operate', 'configure', 'events'] as const).filter((p) => roleAllows(role, p)),
      ]),
    );
    expect(table).toEqual({
      admin: ['read', 'operate', 'configure', 'events'],
      operator: ['read', 'operate'],
      viewer: ['read'],
      events: ['events'],
    });
  });

  it('labels a shared token with the person the CLI names', () => {
    expect(tokenActor('ci-deployer', 'alice')).toBe('ci-deployer (alice)');
    expect(tokenActor('alice')).toBe('alice');
    expect(tokenActor('alice', 'alice')).toBe('alice');
  });
});

describe('the failure throttle', () => {
  it('keys IPv4 by address, IPv6 by /64 however it is written, and anything else as one bucket', () => {
    expect(throttleKey('203.0.113.7')).toBe('203.0.113.7');
    expect(throttleKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(throttleKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(throttleKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttleKey('::1')).toBe('0:0:0:0::/64');
    expect(throttleKey('unknown')).toBe('other');
    expect(throttleKey('2001:db8:zz::1')).toBe('other');
  });

  it('answers 0 for the first maxFailures failures, then the seconds left in the window', () => {
    const throttle = new FailureThrottle({ maxFailures: 3, windowMs: 60_000 });
    expect([0, 1, 2].map(() => throttle.fail('203.0.113.7', 1_000))).toEqual([0, 0, 0]);
    expect(throttle.fail('203.0.113.7', 31_000)).toBe(30);
    expect(throttle.fail('203.0.113.8', 31_000)).toBe(0);
    expect(throttle.fail('203.0.113.7', 61_000)).toBe(0);
  });

  it('remembers at most MAX_THROTTLED_ADDRESSES addresses, forgetting the oldest', () => {
    const throttle = new FailureThrottle({ maxFailures: 1, windowMs: 60_000 });
    throttle.fail('10.0.0.0', 0);
    throttle.fail('10.0.0.0', 0);
    expect(throttle.fail('10.0.0.0', 0)).toBeGreaterThan(0);
    for (let i = 1; i <= MAX_THROTTLED_ADDRESSES; i++)
      throttle.fail(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 0);
    expect(throttle.size).toBe(MAX_THROTTLED_ADDRESSES);
    expect(throttle.fail('10.0.0.0', 0)).toBe(0);
  });
});

describe('secret settings', () => {
  const vars = { STABLE_ORIGIN: 'http://127.0.0.1:1', CANARY_ORIGIN: 'http://127.0.0.1:2' };

  it('requires OVERRIDE_SECRET to be at least 32 characters, naming it (empty means unset)', () => {
    const short = parseSettings({ ...vars, OVERRIDE_SECRET: 'change-me-too' });
    expect(!short.ok && short.issues.join('\n')).toMatch(/^OVERRIDE_SECRET: must be at least 32 characters/);
    expect(parseSettings({ ...vars, OVERRIDE_SECRET: 'x'.repeat(32) }).ok).toBe(true);
    expect(parseSettings({ ...vars, OVERRIDE_SECRET: '' }).ok).toBe(true);
  });

  it('reads WAIVE_SECRETS as names of waivable secrets only', () => {
    const waived = parseSettings({ ...vars, WAIVE_SECRETS: 'GUARD_WEBHOOK_URL, SENTRY_DSN' });
    expect(waived.ok && waived.settings.WAIVE_SECRETS).toEqual(['GUARD_WEBHOOK_URL', 'SENTRY_DSN']);
    const none = parseSettings(vars);
    expect(none.ok && none.settings.WAIVE_SECRETS).toEqual([]);
    const typo = parseSettings({ ...vars, WAIVE_SECRETS: 'GUARD_WEBHOOK' });
    expect(!typo.ok && typo.issues.join('\n')).toMatch(
      /WAIVE_SECRETS may name only GUARD_WEBHOOK_URL, SENTRY_DSN \(not GUARD_WEBHOOK\)/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  ActorLabelSchema,
  AuditQuerySchema,
  ConfigBodySchema,
  FlagBodySchema,
  IfMatchSchema,
  KillBodySchema,
  OverrideLinkBodySchema,
  PercentBodySchema,
} from '../../src/admin/admin-schemas';
import { killState, killSwitchText } from '../../src/admin/kill-switch-text';

describe('admin request schemas', () => {
  it('accept percents with up to two decimals and nothing else', () => {
    expect(PercentBodySchema.safeParse({ percent: 12.5 }).success).toBe(true);
    expect(PercentBodySchema.safeParse({ percent: 0.01, reason: 'ramp' }).success).toBe(true);
    for (const percent of [-0.01, 100.01, 1.005, Infinity, Number.NaN, '10', null])
      expect(PercentBodySchema.safeParse({ percent }).success, String(percent)).toBe(false);
    expect(PercentBodySchema.safeParse({ percent: 10, extra: true }).success).toBe(false);
  });

  it('require a boolean enabled on flags and allow an optional percent', () => {
    expect(FlagBodySchema.safeParse({ enabled: true }).success).toBe(true);
    expect(FlagBodySchema.safeParse({ enabled: false, percent: 30 }).success).toBe(true);
    expect(FlagBodySchema.safeParse({ enabled: 'true' }).success).toBe(false);
    expect(FlagBodySchema.safeParse({ percent: 30 }).success).toBe(false);
  });

  it('refuse a kill request that kills nothing', () => {
    expect(KillBodySchema.safeParse({}).success).toBe(false);
    expect(KillBodySchema.safeParse({ canary: false, flags: [] }).success).toBe(false);
    expect(KillBodySchema.safeParse({ canary: true }).success).toBe(true);
    expect(KillBodySchema.safeParse({ flags: ['emailDelivery'] }).success).toBe(true);
    expect(KillBodySchema.safeParse({ flags: ['bad name'] }).success).toBe(false);
  });

  it('default override links to one hour and bound them between a minute and a week', () => {
    expect(OverrideLinkBodySchema.parse({ cohort: 'canary' })).toEqual({
      cohort: 'canary',
      ttlSeconds: 3600,
    });
    expect(OverrideLinkBodySchema.safeParse({ cohort: 'canary', ttlSeconds: 59 }).success).toBe(false);
    expect(OverrideLinkBodySchema.safeParse({ cohort: 'canary', ttlSeconds: 604_801 }).success).toBe(false);
    expect(OverrideLinkBodySchema.safeParse({ cohort: 'beta' }).success).toBe(false);
  });

  it('leave version and state optional in a whole config, and stay strict', () => {
    const parsed = ConfigBodySchema.parse({ rollout: { percent: 5, salt: 's' } });
    expect(parsed.version).toBeUndefined();
    expect(parsed.rollout.state).toBeUndefined();
    expect(ConfigBodySchema.safeParse({ rollout: { percent: 5, salt: 's' }, typo: 1 }).success).toBe(false);
    expect(ConfigBodySchema.safeParse({ rollout: { percent: 5, salt: 's', tpyo: 1 } }).success).toBe(false);
  });

  it('read If-Match as a version, bare or quoted like the ETag', () => {
    expect(IfMatchSchema.parse('7')).toBe(7);
    expect(IfMatchSchema.parse('"12"')).toBe(12);
    for (const value of ['', 'abc', '-1', '1.5', '*'])
      expect(IfMatchSchema.safeParse(value).success, value).toBe(false);
  });

  it.each([
    ['W/"13"', 'If-Match must be a strong tag: a weak one (W/"7") never matches a config version; send "7"'],
    ['W/13', 'If-Match must be a strong tag: a weak one (W/"7") never matches a config version; send "7"'],
    ['"13', 'If-Match must be a config version, 7 or "7" as in the ETag'],
    ['13"', 'If-Match must be a config version, 7 or "7" as in the ETag'],
    ['""13""', 'If-Match must be a config version, 7 or "7" as in the ETag'],
    ['*', 'If-Match must name one config version: * and lists are not accepted'],
    ['"13", "14"', 'If-Match must name one config version: * and lists are not accepted'],
  ])('refuse If-Match %s, saying why (issue 21 L4)', (value, message) => {
    const parsed = IfMatchSchema.safeParse(value);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([message]);
  });

  it('page the audit log 1–100 at a time, 50 by default', () => {
    expect(AuditQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(AuditQuerySchema.parse({ limit: '100', cursor: 'abc' })).toEqual({ limit: 100, cursor: 'abc' });
    for (const limit of ['0', '101', 'ten', '-1', '1e2'])
      expect(AuditQuerySchema.safeParse({ limit }).success, limit).toBe(false);
  });

  it('limit actor labels to 1–64 safe characters', () => {
    expect(ActorLabelSchema.safeParse('alice@example.com').success).toBe(true);
    for (const label of ['', 'a b', 'x'.repeat(65), 'name;drop', 'ünï'])
      expect(ActorLabelSchema.safeParse(label).success).toBe(false);
  });
});

describe('kill switch text written by the admin API', () => {
  it('reads back, through the splitter’s own parser, as exactly what was requested', () => {
    const text = killSwitchText({ canary: true, flags: ['emailDelivery', 'templates', 'emailDelivery'] });
    expect(text).toBe('canary flag:emailDelivery flag:templates');
    expect(killState(text)).toEqual({
      canary: true,
      allFlags: false,
      flags: ['emailDelivery', 'templates'],
      raw: text,
      sources: { api: text, hand: null },
    });
    // With a hand-set switch too, what either forces off is off, and each source is named.
    expect(killState('flag:templates', 'canary')).toEqual({
      canary: true,
      allFlags: false,
      flags: ['templates'],
      raw: 'flag:templates canary',
      sources: { api: 'flag:templates', hand: 'canary' },
    });
    expect(killState(killSwitchText({ allFlags: true }))).toMatchObject({
      canary: false,
      allFlags: true,
      flags: [],
    });
  });
});

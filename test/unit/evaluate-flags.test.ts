import { describe, expect, it } from 'vitest';
import { assignCohort } from '../../src/split/decide-visitor';
import { NO_KILL, parseKillSwitch, type FlagConfig } from '../../src/config/config-schema';
import { evaluateFlags, flagValues } from '../../src/split/evaluate-flags';
import { seededVisitorIds } from '../support/fixtures/seeded-random';

const flag = (over: Partial<FlagConfig>): FlagConfig => ({
  enabled: true,
  percent: 100,
  default: false,
  ...over,
});
// Fixed, seeded ids, so each share below is one known count (seed 20261125), not a draw that
// misses its band now and then; the bands stay as the sanity check for another seed.
const visitors = seededVisitorIds(20261125, 10_000);

describe('evaluateFlags', () => {
  it('selects nearly independent sets for two flags at 50 %', () => {
    const flags = { fileStorage: flag({ percent: 50 }), templates: flag({ percent: 50 }) };
    let a = 0;
    let b = 0;
    let both = 0;
    for (const id of visitors) {
      const values = flagValues(evaluateFlags(flags, id, NO_KILL));
      if (values.fileStorage) a++;
      if (values.templates) b++;
      if (values.fileStorage && values.templates) both++;
    }
    expect([a, b, both]).toEqual([4974, 5060, 2511]); // seed 20261125
    const n = visitors.length;
    expect(Math.abs(a / n - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(b / n - 0.5)).toBeLessThan(0.015);
    // Independent 50 % sets overlap on about 25 %; identical sets would overlap on 50 %.
    expect(Math.abs(both / n - 0.25)).toBeLessThan(0.015);
  });

  it('splits a flag independently of the routing cohort', () => {
    const flags = { templates: flag({ percent: 50 }) };
    let canaryWithFlag = 0;
    for (const id of visitors) {
      const routed = assignCohort({
        visitorId: id,
        percent: 50,
        salt: 'launch-1',
        state: 'ramping',
        killed: false,
      });
      if (routed.cohort === 'canary' && evaluateFlags(flags, id, NO_KILL).templates!.value) canaryWithFlag++;
    }
    expect(canaryWithFlag).toBe(2505); // seed 20261125
    expect(Math.abs(canaryWithFlag / visitors.length - 0.25)).toBeLessThan(0.015);
  });

  it('gives reasons: STATIC at 100 %, SPLIT/DEFAULT below, DISABLED when off, KILLED by the kill switch', () => {
    const id = visitors[0]!;
    expect(evaluateFlags({ a: flag({}) }, id, NO_KILL).a).toEqual({
      value: true,
      reason: 'STATIC',
      variant: 'on',
    });
    expect(evaluateFlags({ a: flag({ enabled: false, default: true }) }, id, NO_KILL).a).toEqual({
      value: true,
      reason: 'DISABLED',
      variant: 'on',
    });
    expect(evaluateFlags({ a: flag({}) }, id, parseKillSwitch('flag:a')).a).toEqual({
      value: false,
      reason: 'KILLED',
      variant: 'off',
    });
    expect(evaluateFlags({ a: flag({}) }, id, parseKillSwitch('flags')).a).toEqual({
      value: false,
      reason: 'KILLED',
      variant: 'off',
    });
    const reasons = new Set(
      visitors.slice(0, 200).map((v) => evaluateFlags({ a: flag({ percent: 50 }) }, v, NO_KILL).a!.reason),
    );
    expect(reasons).toEqual(new Set(['SPLIT', 'DEFAULT']));
  });
});

describe('QA pins (an override link’s flag → variant)', () => {
  const NO_KILL_HERE = parseKillSwitch(null);
  const flags = {
    templates: { enabled: false, percent: 0, default: false },
    emailDelivery: { enabled: true, percent: 0, default: false },
  } as const;

  it('serve the pinned variant with reason OVERRIDE, over a disabled flag and a 0 % split', () => {
    const results = evaluateFlags(
      flags,
      'abc12345',
      NO_KILL_HERE,
      {},
      { templates: 'on', emailDelivery: 'on' },
    );
    expect(results.templates).toEqual({ value: true, reason: 'OVERRIDE', variant: 'on' });
    expect(results.emailDelivery).toEqual({ value: true, reason: 'OVERRIDE', variant: 'on' });
    expect(evaluateFlags(flags, 'abc12345', NO_KILL_HERE).templates.reason).toBe('DISABLED');
  });

  it('lose to the kill switch, and are ignored for a flag or variant the config does not have', () => {
    const results = evaluateFlags(
      flags,
      'abc12345',
      parseKillSwitch('flag:templates'),
      {},
      { templates: 'on', emailDelivery: 'purple', gone: 'on' },
    );
    expect(results.templates.reason).toBe('KILLED');
    expect(results.emailDelivery.reason).toBe('DEFAULT');
    expect(Object.hasOwn(results, 'gone')).toBe(false);
  });

  it('pin a typed flag to a named variant, and a prerequisite on a pinned flag sees the pin', () => {
    const typed = {
      theme: {
        type: 'string',
        variants: { light: 'light', dark: 'dark' },
        offVariant: 'light',
        enabled: false,
        rules: [],
      },
      darkCharts: {
        type: 'boolean',
        variants: { on: true, off: false },
        offVariant: 'off',
        enabled: true,
        prerequisites: [{ flag: 'theme', variants: ['dark'] }],
        rules: [],
        fallthrough: { variant: 'on' },
      },
    } as unknown as Parameters<typeof evaluateFlags>[0];
    expect(evaluateFlags(typed, 'abc12345', NO_KILL_HERE).darkCharts.reason).toBe('PREREQUISITE_FAILED');
    const pinned = evaluateFlags(typed, 'abc12345', NO_KILL_HERE, {}, { theme: 'dark' });
    expect(pinned.theme).toEqual({ value: 'dark', reason: 'OVERRIDE', variant: 'dark' });
    expect(pinned.darkCharts).toMatchObject({ value: true, reason: 'DEFAULT' });
  });
});

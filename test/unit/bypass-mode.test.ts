import { describe, expect, it } from 'vitest';
import { stepVersion, type ApplyContext } from '../../src/admin/apply-command';
import { killState } from '../../src/admin/kill-switch-text';
import { CachedConfigStore } from '../../src/config/cached-config-store';
import {
  parseHandBypass,
  parseKillSwitch,
  RolloutConfigSchema,
  safeDefaultConfig,
  unionKillSwitch,
} from '../../src/config/config-schema';
import type { RawConfigValues } from '../../src/ports';

const context: ApplyContext = {
  now: Date.UTC(2026, 10, 25, 12),
  newSalt: () => 'fresh-salt',
  origins: { stable: 'https://stable.example', canary: 'https://canary.example' },
};
const config = RolloutConfigSchema.parse({
  version: 4,
  rollout: { percent: 10, salt: 'launch-1', state: 'ramping' },
  flags: { templates: { enabled: true, percent: 50 } },
});

describe('bypass in the kill switch text (the API path)', () => {
  it('reads the bypass token alone as bypass, not as an unreadable kill that stops the canary', () => {
    const kill = parseKillSwitch('bypass');
    expect(kill).toMatchObject({ bypass: true, canary: false, allFlags: false });
    expect(kill.unreadable).toBeUndefined();
    expect(parseKillSwitch('canary').bypass).toBeUndefined();
    expect(unionKillSwitch(parseKillSwitch('canary'), parseKillSwitch('BYPASS')).bypass).toBe(true);
  });

  it('bypass and unbypass add and remove the token, bump the version, and leave the kill as it was', () => {
    const on = stepVersion({ config, kill: 'canary flag:templates' }, { type: 'bypass' }, context);
    expect(on).toMatchObject({ ok: true, changed: true, kill: 'canary flag:templates bypass' });
    if (!on.ok) return;
    expect(on.config.version).toBe(5);
    const again = stepVersion({ config: on.config, kill: on.kill }, { type: 'bypass' }, context);
    expect(again).toMatchObject({ ok: true, changed: false });
    const off = stepVersion({ config: on.config, kill: on.kill }, { type: 'unbypass' }, context);
    expect(off).toMatchObject({ ok: true, changed: true, kill: 'canary flag:templates' });
    expect(stepVersion({ config, kill: 'bypass' }, { type: 'unbypass' }, context)).toMatchObject({
      kill: null,
    });
  });

  it('a kill written or lifted keeps the bypass in force', () => {
    expect(
      stepVersion({ config, kill: 'bypass' }, { type: 'kill', request: { canary: true } }, context),
    ).toMatchObject({ kill: 'canary bypass' });
    expect(stepVersion({ config, kill: 'canary bypass' }, { type: 'unkill' }, context)).toMatchObject({
      kill: 'bypass',
    });
  });
});

describe('KV "bypass" by hand', () => {
  it.each([
    [null, { on: false }],
    ['', { on: false }],
    ['off', { on: false }],
    [' ON\n', { on: true }],
  ])('reads %j as %j', (text, expected) => {
    expect(parseHandBypass(text)).toEqual(expected);
  });

  it('reads any other value as on, and says why (someone wrote the emergency switch)', () => {
    expect(parseHandBypass('true')).toEqual({
      on: true,
      unreadable: 'value "true" is not on or off: bypass on',
    });
  });

  it('killState shows either source, and nothing while both are off', () => {
    expect(killState('bypass', null, null).bypass).toEqual({ active: true, api: true, hand: null });
    expect(killState(null, null, 'on').bypass).toEqual({ active: true, api: false, hand: 'on' });
    expect(killState(null, null, 'off').bypass).toEqual({ active: false, api: false, hand: 'off' });
    expect(killState('canary', null, null).bypass).toBeUndefined();
  });

  it('the config store serves it in the snapshot from the same bulk read, and a KV outage keeps it on', async () => {
    let now = 0;
    let values: RawConfigValues | undefined = {
      config: JSON.stringify(config),
      kill: null,
      bypass: 'on',
    };
    let reads = 0;
    const store = new CachedConfigStore(
      {
        readRaw: async () => {
          reads++;
          if (!values) throw new Error('KV down');
          return values;
        },
      },
      {
        ttlMs: 1000,
        clock: { now: () => now },
        logger: { info() {}, warn() {}, error() {} },
        safeDefault: safeDefaultConfig({}),
      },
    );
    expect((await store.read()).kill.bypass).toBe(true);
    expect(reads).toBe(1);
    values = undefined;
    now += 2000;
    expect((await store.read()).kill.bypass).toBe(true);
    values = { config: JSON.stringify(config), kill: null, bypass: null };
    now += 2000;
    expect((await store.read()).kill.bypass).toBeUndefined();
  });
});

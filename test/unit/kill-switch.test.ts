import { describe, expect, it } from 'vitest';
import { parseKillSwitch } from '../../src/config/config-schema';

describe('parseKillSwitch', () => {
  it('is inactive when the key is absent or blank', () => {
    for (const text of [null, '', '   ']) {
      const kill = parseKillSwitch(text);
      expect(kill.canary || kill.allFlags || kill.flags.size > 0).toBe(false);
    }
  });

  it('reads canary, named flags, all flags and all, separated by spaces or commas', () => {
    const kill = parseKillSwitch('canary, flag:emailDelivery flag:templates');
    expect(kill.canary).toBe(true);
    expect([...kill.flags]).toEqual(['emailDelivery', 'templates']);
    expect(parseKillSwitch('flags').allFlags).toBe(true);
    expect(parseKillSwitch('ALL')).toMatchObject({ canary: true, allFlags: true });
  });

  it('collects unknown tokens instead of failing', () => {
    const kill = parseKillSwitch('canary bogus flag: {"json":1}');
    expect(kill.canary).toBe(true);
    expect(kill.unknownTokens).toEqual(['bogus', 'flag:', '{"json":1}']);
  });
});

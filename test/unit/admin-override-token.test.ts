import { describe, expect, it } from 'vitest';
import { overrideTokens } from '../../src/admin/override-token';

const NOW = Date.UTC(2026, 10, 25, 12);
const EXPIRES = NOW / 1000 + 3600;

describe('override tokens', () => {
  const tokens = overrideTokens('qa-secret');

  it('verifies a token it signed, giving back the cohort and expiry', async () => {
    const token = await tokens.sign('canary', EXPIRES);
    expect(token).toMatch(/^canary\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(await tokens.verify(token, NOW)).toEqual({ cohort: 'canary', expiresAt: EXPIRES });
  });

  it('rejects a token at or after its expiry', async () => {
    const token = await tokens.sign('canary', EXPIRES);
    expect(await tokens.verify(token, EXPIRES * 1000 - 1)).toBeDefined();
    expect(await tokens.verify(token, EXPIRES * 1000)).toBeUndefined();
  });

  it('rejects a token whose cohort or expiry was edited', async () => {
    const token = await tokens.sign('stable', EXPIRES);
    expect(await tokens.verify(token.replace(/^stable/, 'canary'), NOW)).toBeUndefined();
    expect(await tokens.verify(token.replace(`.${EXPIRES}.`, `.${EXPIRES + 86_400}.`), NOW)).toBeUndefined();
  });

  it('rejects every single-character change of the signature', async () => {
    const token = await tokens.sign('canary', EXPIRES);
    const cut = token.lastIndexOf('.') + 1;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let tried = 0;
    for (let i = cut; i < token.length; i++) {
      const other = alphabet[(alphabet.indexOf(token[i]!) + 1 + (i % 63)) % 64]!;
      const tampered = token.slice(0, i) + other + token.slice(i + 1);
      expect(await tokens.verify(tampered, NOW), tampered).toBeUndefined();
      tried++;
    }
    expect(tried).toBe(43);
  });

  it('rejects a token signed with another secret', async () => {
    const token = await overrideTokens('another-secret').sign('canary', EXPIRES);
    expect(await tokens.verify(token, NOW)).toBeUndefined();
  });

  it('rejects malformed tokens without throwing', async () => {
    for (const token of [
      '',
      'canary',
      'canary.1.x',
      'beta.9999999999.' + 'A'.repeat(43),
      'canary.abc.' + 'A'.repeat(43),
    ])
      expect(await tokens.verify(token, NOW), token).toBeUndefined();
  });
});

describe('override tokens v2: flag pins', () => {
  const tokens = overrideTokens('qa-secret');
  const PINS = { templates: 'on', emailDelivery: 'on', checkoutTheme: 'dark' };

  it('signs pins into a v2 token and gives them back; a link without pins stays a v1 token', async () => {
    const token = await tokens.sign('canary', EXPIRES, PINS);
    expect(token).toMatch(/^v2\.canary\.\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(await tokens.verify(token, NOW)).toEqual({ cohort: 'canary', expiresAt: EXPIRES, pins: PINS });
    expect(await tokens.sign('canary', EXPIRES, {})).toMatch(/^canary\.\d+\.[A-Za-z0-9_-]{43}$/);
  });

  it('keeps verifying a v1 token signed before v2 existed (a fixed vector)', async () => {
    // HMAC-SHA256('qa-secret', 'edge-rollout override v1:stable.4102444800'), computed outside
    // this code (Node's crypto): the v1 format is never changed in place.
    const v1 = 'stable.4102444800.MbUTQPzbY6rWjF69Evt1MpT9xOJpOdOeankTxviX6uY';
    expect(await tokens.verify(v1, NOW)).toEqual({ cohort: 'stable', expiresAt: 4102444800 });
  });

  it('rejects a v2 token whose pins were swapped, or whose v2 body was given a v1 signature', async () => {
    const token = await tokens.sign('canary', EXPIRES, { templates: 'off' });
    const [, , , , signature] = token.split('.');
    const otherPins = (await tokens.sign('canary', EXPIRES, { templates: 'on' })).split('.')[3];
    expect(await tokens.verify(`v2.canary.${EXPIRES}.${otherPins}.${signature}`, NOW)).toBeUndefined();
    const v1Signature = (await tokens.sign('canary', EXPIRES)).split('.')[2];
    expect(
      await tokens.verify(`v2.canary.${EXPIRES}.${token.split('.')[3]}.${v1Signature}`, NOW),
    ).toBeUndefined();
  });

  it('bounds the pins so the cookie stays small: more than 32 flags, or over 1024 characters, is refused', async () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`flag${i}`, 'on']));
    await expect(tokens.sign('canary', EXPIRES, many)).rejects.toThrow(RangeError);
    const long = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}${'x'.repeat(60)}`, 'on']));
    await expect(tokens.sign('canary', EXPIRES, long)).rejects.toThrow(/over the bound/);
    const most = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`flag${i}`, 'on']));
    const token = await tokens.sign('canary', EXPIRES, most);
    expect(token.length).toBeLessThan(1200);
    expect((await tokens.verify(token, NOW))?.pins).toEqual(most);
  });
});

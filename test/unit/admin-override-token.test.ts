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

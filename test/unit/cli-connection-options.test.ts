import { describe, expect, it } from 'vitest';
import { resolveConnection } from '../../cli/command-line';
import { UsageError } from '../../cli/errors';

describe('resolveConnection', () => {
  const env = {
    ROLLOUT_URL: 'https://app.example.com/',
    ROLLOUT_TOKEN: 'env-token-123',
    ROLLOUT_ACTOR: 'ci',
  };

  it('reads ROLLOUT_* env vars, trims the trailing slash and defaults the prefix', () => {
    expect(resolveConnection({}, env)).toEqual({
      url: 'https://app.example.com',
      token: 'env-token-123',
      actor: 'ci',
      prefix: '/__rollout',
    });
  });

  it('lets each flag win over its env var', () => {
    const connection = resolveConnection(
      {
        url: 'http://127.0.0.1:8787',
        token: 'flag-token',
        actor: 'alice',
        prefix: '/ops',
        env: 'production',
      },
      env,
    );
    expect(connection).toEqual({
      url: 'http://127.0.0.1:8787',
      token: 'flag-token',
      actor: 'alice',
      prefix: '/ops',
      env: 'production',
    });
  });

  it('treats an empty env var as unset', () => {
    expect(resolveConnection({}, { ...env, ROLLOUT_ACTOR: '' }).actor).toBeUndefined();
  });

  it.each([
    [{}, {}, /no admin URL: set ROLLOUT_URL/],
    [{ url: 'ftp://app.example.com' }, {}, /http\(s\) URL/],
    [{ url: 'not a url' }, {}, /http\(s\) URL/],
    [{ actor: 'alice smith' }, env, /x-rollout-actor must be 1–64 chars/],
    [{ env: 'prod/eu' }, env, /wrangler environment/],
    [{ prefix: 'ops' }, env, /admin prefix starts with \//],
  ])('rejects %j with a usage error', (flags, vars, message) => {
    expect(() => resolveConnection(flags, vars)).toThrow(UsageError);
    expect(() => resolveConnection(flags, vars)).toThrow(message);
  });

  it('never repeats a malformed token in its error', () => {
    const token = 'secret with spaces';
    try {
      resolveConnection({ token }, env);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/token must be/);
      expect((error as Error).message).not.toContain('secret');
    }
  });
});

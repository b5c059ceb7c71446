import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { remoteJwks, verifyRs256Jwt } from '../../src/admin/access-jwt';

const issuer = 'https://team.cloudflareaccess.com';
const audience = 'aud-tag';
const now = 1_764_000_000;
const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const other = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };

function sign(
  claims: Record<string, unknown> = {},
  options: { key?: CryptoKey; kid?: string; alg?: string; exp?: number } = {},
) {
  return new SignJWT({ email: 'ops@example.com', ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'k1' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(now - 10)
    .setExpirationTime(options.exp ?? now + 300)
    .sign(options.key ?? privateKey);
}

function keyFor(fetches: { count: number } = { count: 0 }, clock = { now: () => now * 1000 }) {
  return remoteJwks({
    url: new URL('/cdn-cgi/access/certs', issuer),
    clock,
    fetch: async () => {
      fetches.count++;
      return Response.json({ keys: [jwk] });
    },
  });
}

const expect0 = (token: string, k = keyFor()) =>
  verifyRs256Jwt(token, { issuer, audience, nowSeconds: now, keyFor: k });

describe('verifyRs256Jwt', () => {
  it('accepts a token signed by a key of the JWKS and returns its claims', async () => {
    expect(await expect0(await sign())).toMatchObject({
      email: 'ops@example.com',
      iss: issuer,
      aud: audience,
    });
  });

  it.each([
    ['signed by a foreign key', () => sign({}, { key: other.privateKey })],
    ['expired', () => sign({}, { exp: now - 1 })],
    ['not yet valid', () => sign({ nbf: now + 60 })],
    [
      'for another audience',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(issuer)
          .setAudience('other')
          .setExpirationTime(now + 60)
          .sign(privateKey),
    ],
    [
      'from another issuer',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer('https://evil.example')
          .setAudience(audience)
          .setExpirationTime(now + 60)
          .sign(privateKey),
    ],
    ['with an unknown key id', () => sign({}, { kid: 'k2' })],
    [
      'with alg none',
      async () =>
        `${btoa('{"alg":"none","kid":"k1"}').replace(/=/g, '')}.${btoa(`{"iss":"${issuer}","aud":"${audience}","exp":${now + 60}}`).replace(/=/g, '')}.`,
    ],
    [
      'tampered payload',
      async () => {
        const [h, , s] = (await sign()).split('.');
        const forged = btoa(
          JSON.stringify({ iss: issuer, aud: audience, exp: now + 60, email: 'admin@evil.example' }),
        )
          .replace(/=+$/, '')
          .replace(/\+/g, '-')
          .replace(/\//g, '_');
        return `${h}.${forged}.${s}`;
      },
    ],
    ['garbage', async () => 'not.a.jwt'],
    ['too many parts', async () => `${await sign()}.extra`],
  ])('refuses a token %s', async (_name, make) => {
    expect(await expect0(await make())).toBeUndefined();
  });

  it('fetches the JWKS once while it is fresh, and again for an unknown key id only after the cooldown', async () => {
    const fetches = { count: 0 };
    let ms = now * 1000;
    const k = keyFor(fetches, { now: () => ms });
    for (let i = 0; i < 5; i++) await expect0(await sign(), k);
    expect(fetches.count).toBe(1);
    await expect0(await sign({}, { kid: 'rotated' }), k);
    expect(fetches.count).toBe(1);
    ms += 31_000;
    await expect0(await sign({}, { kid: 'rotated' }), k);
    expect(fetches.count).toBe(2);
  });
});

import type { Clock } from '../ports';
import { readCookie, type Cohort } from '../split/decide-visitor';
import { base64UrlBytes, base64UrlEncode } from '../encoding';

/** The cookie that carries a verified override token on every later request. */
export const OVERRIDE_COOKIE = 'rollout_override';

/** A verified override: the cohort to pin and when the pin ends. */
export interface VerifiedOverride {
  cohort: Cohort;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** Signs and verifies QA override tokens with one HMAC key. */
export interface OverrideTokens {
  sign(cohort: Cohort, expiresAt: number): Promise<string>;
  /** The override, or undefined when the token is malformed, tampered with or expired. */
  verify(token: string, nowMs: number): Promise<VerifiedOverride | undefined>;
}

const TOKEN_PATTERN = /^(stable|canary)\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
// Binds signatures to this use and format version, so the secret can never sign anything else.
const CONTEXT = 'edge-rollout override v1:';

/**
 * Override tokens: `<cohort>.<expiry in epoch seconds>.<base64url HMAC-SHA256>` over the cohort
 * and expiry. URL- and cookie-safe as is. The key is imported once; verification is
 * `crypto.subtle.verify`, which compares in constant time.
 *
 * @example
 * const tokens = overrideTokens(env.OVERRIDE_SECRET);
 * const token = await tokens.sign('canary', Math.floor(Date.now() / 1000) + 3600);
 * await tokens.verify(token, Date.now()); // { cohort: 'canary', expiresAt: ... }
 */
export function overrideTokens(secret: string): OverrideTokens {
  const encoder = new TextEncoder();
  const key = crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  const message = (cohort: string, expiresAt: string) => encoder.encode(`${CONTEXT}${cohort}.${expiresAt}`);
  return {
    async sign(cohort, expiresAt) {
      const signature = await crypto.subtle.sign('HMAC', await key, message(cohort, String(expiresAt)));
      return `${cohort}.${expiresAt}.${base64UrlEncode(new Uint8Array(signature))}`;
    },
    async verify(token, nowMs) {
      const match = TOKEN_PATTERN.exec(token);
      if (!match) return undefined;
      const [, cohort, expiry, signature] = match as unknown as [string, Cohort, string, string];
      const expiresAt = Number(expiry);
      if (expiresAt * 1000 <= nowMs) return undefined;
      const signatureBytes = base64UrlBytes(signature);
      if (!signatureBytes) return undefined;
      // Only the canonical encoding counts: base64's spare low bits must not give a second spelling.
      if (base64UrlEncode(signatureBytes) !== signature) return undefined;
      const valid = await crypto.subtle.verify('HMAC', await key, signatureBytes, message(cohort, expiry));
      return valid ? { cohort, expiresAt } : undefined;
    },
  };
}

/**
 * Builds `deps.readOverride`: the cohort pinned by a valid `rollout_override` cookie. A missing,
 * tampered or expired cookie is ignored (the visitor is split as usual); without OVERRIDE_SECRET
 * overrides are off. Requests without the cookie cost one cookie lookup, no crypto and no
 * promise: the answer is then given synchronously.
 *
 * @example
 * const readOverride = overrideReader(settings.OVERRIDE_SECRET, systemClock);
 * await readOverride(request); // 'canary' | 'stable' | undefined
 */
export function overrideReader(
  secret: string | undefined,
  clock: Clock,
): (request: Request) => Cohort | undefined | Promise<Cohort | undefined> {
  if (!secret) return () => undefined;
  const tokens = overrideTokens(secret);
  return function readOverride(request) {
    const token = readCookie(request.headers.get('cookie'), OVERRIDE_COOKIE);
    // Answered at once without the cookie (nearly every request): nothing to await.
    if (!token) return undefined;
    return tokens.verify(token, clock.now()).then((verified) => verified?.cohort);
  };
}

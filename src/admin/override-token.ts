import * as z from 'zod/mini';
import type { Clock } from '../ports';
import { recordWithoutProto } from '../config/config-schema';
import { FlagNameSchema, VariantNameSchema } from '../config/flag-schema';
import { parseJsonText } from '../config/parse-config';
import { readCookie, type Cohort, type QaOverride } from '../split/decide-visitor';
import { base64UrlBytes, base64UrlEncode } from '../encoding';

/** The cookie that carries a verified override token on every later request. */
export const OVERRIDE_COOKIE = 'rollout_override';

/** The most flags one link may pin. */
export const MAX_PINS = 32;
/** The longest encoded pin list a token carries: the cookie stays around 1 KiB at most. */
export const MAX_PINS_TEXT = 1024;

/**
 * Flag → variant pins of an override link (`on`/`off` for a boolean flag): at most
 * {@link MAX_PINS}, names and variants spelled as the config spells them.
 */
export const FlagPinsSchema = recordWithoutProto(FlagNameSchema, VariantNameSchema).check(
  z.refine((pins) => Object.keys(pins).length >= 1 && Object.keys(pins).length <= MAX_PINS, {
    message: `pin 1 to ${MAX_PINS} flags`,
  }),
);

/** Flag → variant pins, validated. */
export type FlagPins = Readonly<Record<string, string>>;

/** A verified override: the cohort to pin, the flags to pin, and when the pins end. */
export interface VerifiedOverride extends QaOverride {
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** Signs and verifies QA override tokens with one HMAC key. */
export interface OverrideTokens {
  /**
   * A token for this cohort until `expiresAt`; a v2 token when flags are pinned, else v1 (which
   * an edge one version back still reads). Throws a RangeError when the pins are over the bound:
   * callers validate with {@link FlagPinsSchema} first.
   */
  sign(cohort: Cohort, expiresAt: number, pins?: FlagPins): Promise<string>;
  /** The override, or undefined when the token is malformed, tampered with or expired. */
  verify(token: string, nowMs: number): Promise<VerifiedOverride | undefined>;
}

const V1_PATTERN = /^(stable|canary)\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
const V2_PATTERN = /^v2\.(stable|canary)\.(\d{1,12})\.([A-Za-z0-9_-]{1,1024})\.([A-Za-z0-9_-]{43})$/;
// Bind signatures to this use and format version, so the secret can never sign anything else,
// and a v1 signature can never pass for a v2 token (or the reverse).
const CONTEXT_V1 = 'edge-rollout override v1:';
const CONTEXT_V2 = 'edge-rollout override v2:';

/**
 * Override tokens, URL- and cookie-safe as they are:
 * - v1 `<cohort>.<expiry in epoch seconds>.<base64url HMAC-SHA256>`: a cohort pin;
 * - v2 `v2.<cohort>.<expiry>.<pins>.<HMAC>`: the same, plus flag → variant pins as base64url
 *   JSON, at most {@link MAX_PINS} flags and {@link MAX_PINS_TEXT} characters, so the cookie
 *   stays small. v1 tokens keep verifying; the format is versioned, never changed in place.
 * The key is imported once; verification is `crypto.subtle.verify`, which compares in constant
 * time, and runs before the pins are decoded.
 *
 * @example
 * const tokens = overrideTokens(env.OVERRIDE_SECRET);
 * const token = await tokens.sign('canary', Math.floor(Date.now() / 1000) + 3600, { templates: 'on' });
 * await tokens.verify(token, Date.now()); // { cohort: 'canary', pins: { templates: 'on' }, expiresAt: ... }
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
  const signed = async (text: string) =>
    base64UrlEncode(new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(text))));
  return {
    async sign(cohort, expiresAt, pins) {
      if (!pins || Object.keys(pins).length === 0) {
        const body = `${cohort}.${expiresAt}`;
        return `${body}.${await signed(CONTEXT_V1 + body)}`;
      }
      const encoded = base64UrlEncode(encoder.encode(JSON.stringify(pins)));
      if (encoded.length > MAX_PINS_TEXT || Object.keys(pins).length > MAX_PINS)
        throw new RangeError(`override pins over the bound (${MAX_PINS} flags, ${MAX_PINS_TEXT} characters)`);
      const body = `${cohort}.${expiresAt}.${encoded}`;
      return `v2.${body}.${await signed(CONTEXT_V2 + body)}`;
    },
    async verify(token, nowMs) {
      const v2 = V2_PATTERN.exec(token);
      const v1 = v2 ? undefined : V1_PATTERN.exec(token);
      if (!v2 && !v1) return undefined;
      const [cohort, expiry, pinsText, signature] = (
        v2 ? v2.slice(1) : [v1![1], v1![2], undefined, v1![3]]
      ) as [Cohort, string, string | undefined, string];
      const expiresAt = Number(expiry);
      if (expiresAt * 1000 <= nowMs) return undefined;
      const signatureBytes = base64UrlBytes(signature);
      if (!signatureBytes) return undefined;
      // Only the canonical encoding counts: base64's spare low bits must not give a second spelling.
      if (base64UrlEncode(signatureBytes) !== signature) return undefined;
      const text =
        pinsText === undefined
          ? `${CONTEXT_V1}${cohort}.${expiry}`
          : `${CONTEXT_V2}${cohort}.${expiry}.${pinsText}`;
      const valid = await crypto.subtle.verify('HMAC', await key, signatureBytes, encoder.encode(text));
      if (!valid) return undefined;
      if (pinsText === undefined) return { cohort, expiresAt };
      const pins = decodePins(pinsText);
      return pins ? { cohort, expiresAt, pins } : undefined;
    },
  };
}

/** The pins of a signed v2 token, or undefined when they do not read as pins (never thrown). */
function decodePins(text: string): FlagPins | undefined {
  const bytes = base64UrlBytes(text);
  if (!bytes) return undefined;
  // Bytes that are not UTF-8 decode to U+FFFD, which no flag or variant name may hold.
  const parsed = parseJsonText(new TextDecoder().decode(bytes), FlagPinsSchema);
  return parsed.ok ? parsed.value : undefined;
}

/**
 * Builds `deps.readOverride`: the override (cohort, flag pins, expiry) of a valid
 * `rollout_override` cookie. A missing, tampered or expired cookie is ignored (the visitor is
 * split as usual); without OVERRIDE_SECRET overrides are off. Requests without the cookie cost
 * one cookie lookup, no crypto and no promise: the answer is then given synchronously.
 *
 * @example
 * const readOverride = overrideReader(settings.OVERRIDE_SECRET, systemClock);
 * await readOverride(request); // { cohort: 'canary', pins: { templates: 'on' }, expiresAt } | undefined
 */
export function overrideReader(
  secret: string | undefined,
  clock: Clock,
): (request: Request) => VerifiedOverride | undefined | Promise<VerifiedOverride | undefined> {
  if (!secret) return () => undefined;
  const tokens = overrideTokens(secret);
  return function readOverride(request) {
    const token = readCookie(request.headers.get('cookie'), OVERRIDE_COOKIE);
    // Answered at once without the cookie (nearly every request): nothing to await.
    if (!token) return undefined;
    return tokens.verify(token, clock.now());
  };
}

/**
 * The `Set-Cookie` that stores an override token for its remaining lifetime, and the one that
 * removes it (`maxAgeSeconds` 0): the way out of an override.
 *
 * @example
 * overrideCookie(token, 3600); // 'rollout_override=…; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax'
 */
export function overrideCookie(token: string, maxAgeSeconds: number): string {
  return `${OVERRIDE_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`;
}

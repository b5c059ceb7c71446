import { base64UrlEncode } from '../encoding/base64url';

const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * Whether a cookie value is an acceptable visitor id: 8–64 chars of `[A-Za-z0-9_-]`.
 *
 * @example
 * isValidVisitorId('abc'); // false: too short, a fresh id is issued
 */
export function isValidVisitorId(value: string | undefined): value is string {
  return value !== undefined && VISITOR_ID_PATTERN.test(value);
}

/**
 * A fresh random visitor id: 16 random bytes as base64url (22 chars, 128 bits).
 *
 * @example
 * newVisitorId(); // 'q3Y0c1m8pQ2r7sKcZ9xW1A'
 */
export function newVisitorId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return base64UrlEncode(bytes);
}

const IDENTITY_HEADER_PATTERN = /^[\x21-\x7e]{1,256}$/;

/**
 * Whether a stickiness header value (e.g. a user id from the app's auth) may decide the cohort:
 * 1–256 visible ASCII chars. Anything else is ignored and the cookie decides.
 */
export function isValidIdentityValue(value: string | null): value is string {
  return value !== null && IDENTITY_HEADER_PATTERN.test(value);
}

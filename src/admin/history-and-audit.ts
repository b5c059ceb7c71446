import * as z from 'zod/mini';

/**
 * The KV layout of the config history and the audit log: their keys, the audit entry stored
 * under each audit key, and the random text that keeps two keys of one millisecond apart.
 */

/** KV key of one config version in history: `history:` + the version zero-padded to 10 digits. */
export const HISTORY_PREFIX = 'history:';
/** KV key prefix of the audit log: one key per entry, so concurrent writers never race. */
export const AUDIT_PREFIX = 'audit:';

const NEWEST_FIRST_BASE = 9_999_999_999_999;

/**
 * The history key of a version.
 *
 * @example
 * historyKey(7); // 'history:0000000007'
 */
export function historyKey(version: number): string {
  return `${HISTORY_PREFIX}${String(version).padStart(10, '0')}`;
}

/**
 * The key of an audit entry. KV lists keys in ascending order, so counting the time down from
 * 9999999999999 makes a plain list return the newest entry first; the random suffix keeps two
 * entries written in the same millisecond apart.
 *
 * @example
 * auditKey(1_764_072_000_000, 'k3x9qa'); // 'audit:8235927999999:k3x9qa'
 */
export function auditKey(epochMs: number, suffix: string): string {
  return `${AUDIT_PREFIX}${String(NEWEST_FIRST_BASE - epochMs).padStart(13, '0')}:${suffix}`;
}

/** What an audit entry records: an admin command's type, or a kill switch change. */
export const AuditActionSchema = z.enum([
  'set-percent',
  'replace-config',
  'set-flag',
  'promote',
  'finalize',
  'abort',
  'pause',
  'resume',
  'undo',
  'kill',
  'unkill',
  'bypass',
  'unbypass',
  'override-link',
]);

/** One of the audited actions. */
export type AuditAction = z.infer<typeof AuditActionSchema>;

/**
 * One audit log entry, stored under its own `audit:` key. `before`/`after` hold whole configs
 * for config changes and `{ kill: text | null }` for kill switch changes.
 */
export const AuditEntrySchema = z.object({
  id: z.string().check(z.minLength(1)),
  at: z.iso.datetime(),
  actor: z.string().check(z.minLength(1)),
  action: AuditActionSchema,
  before: z.unknown(),
  after: z.unknown(),
  /** The version after the change (kill switch changes make versions too). */
  version: z.int().check(z.gte(0)),
  reason: z.optional(z.string()),
});

/** A validated audit entry. */
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Random lower-case alphanumerics from the platform's CSPRNG, for audit key suffixes and fresh
 * salts. Rejection sampling keeps every character equally likely.
 *
 * @example
 * randomText(6); // 'k3x9qa'
 */
export function randomText(length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // 252 = 7 × 36: bytes above it would favour the first characters.
      if (byte < 252 && text.length < length) text += ALPHABET[byte % ALPHABET.length];
    }
  }
  return text;
}

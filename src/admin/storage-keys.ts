/** KV key of one config version in history: `history:` + the version zero-padded to 10 digits. */
export const HISTORY_PREFIX = 'history:';
/** KV key prefix of the audit log: one key per entry, so concurrent writers never race. */
export const AUDIT_PREFIX = 'audit:';
/** KV key of the guard's latest verdict (written by the guard, shown by GET /state). */
export const GUARD_VERDICT_KEY = 'guard:verdict';

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

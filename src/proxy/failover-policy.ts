/** Methods whose canary attempt may be replayed on stable: they carry no body and are idempotent. */
const REPLAYABLE = new Set(['GET', 'HEAD']);

/**
 * Whether a request may be replayed after its canary attempt failed. Never for a request with a
 * body: it was streamed to the canary and cannot be sent again (and must not be applied twice).
 *
 * @example
 * isReplayable('POST'); // false
 */
export function isReplayable(method: string): boolean {
  return REPLAYABLE.has(method.toUpperCase());
}

/**
 * Whether an upstream answer counts as a failure that triggers failover: no response at all
 * (network error, timeout) or one of the configured statuses.
 *
 * @example
 * isFailoverStatus(503, [502, 503, 504]); // true
 */
export function isFailoverStatus(status: number, statuses: readonly number[]): boolean {
  return statuses.includes(status);
}

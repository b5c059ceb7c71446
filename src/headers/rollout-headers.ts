/** Tells the origin and the client which deployment served the request. */
export const COHORT_HEADER = 'x-rollout-cohort';
/** Carries the visitor's flag values to the origin as a JSON object. */
export const FLAGS_HEADER = 'x-feature-flags';

/** Every header with this prefix belongs to edge-rollout. */
export const ROLLOUT_PREFIX = 'x-rollout-';

/**
 * Whether a header belongs to edge-rollout. Such headers from a client are dropped, never
 * forwarded: only the Worker may tell the origin a cohort or a flag.
 *
 * @example
 * isRolloutHeader('X-Rollout-Cohort'); // true
 */
export function isRolloutHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith(ROLLOUT_PREFIX) || lower === FLAGS_HEADER;
}

/**
 * What the guard knows about one cohort over a window. Counts are already weighted by
 * Analytics Engine's `_sample_interval`, so they estimate real traffic, not stored rows.
 */
export interface CohortStats {
  /** Proxied requests (business events excluded). */
  requests: number;
  /** Requests that ended in a 5xx, no response, or (for the canary) a failover to stable. */
  errors: number;
  /** 95th percentile of total request time, in ms; 0 when there were no requests. */
  p95Ms: number;
  emailDelivered: number;
  emailFailed: number;
  uploadsOk: number;
  uploadsFailed: number;
}

/** Both cohorts over the same window. */
export interface WindowStats {
  canary: CohortStats;
  stable: CohortStats;
}

/**
 * A cohort that sent nothing in the window.
 *
 * @example
 * const stats: WindowStats = { canary: EMPTY_COHORT_STATS, stable: EMPTY_COHORT_STATS };
 */
export const EMPTY_COHORT_STATS: Readonly<CohortStats> = Object.freeze({
  requests: 0,
  errors: 0,
  p95Ms: 0,
  emailDelivered: 0,
  emailFailed: 0,
  uploadsOk: 0,
  uploadsFailed: 0,
});

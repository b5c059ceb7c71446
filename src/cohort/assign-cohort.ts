import { bucket, inPercent } from '../hashing/bucket';
import type { RolloutState } from '../config/rollout-state';

/** The two deployments a visitor can be routed to. */
export type Cohort = 'stable' | 'canary';

/** Why a visitor got its cohort (OpenFeature-style reasons). */
export type CohortReason = 'SPLIT' | 'KILLED' | 'ABORTED' | 'OVERRIDE' | 'NOT_LIVE';

/** The routing decision for one visitor. */
export interface CohortAssignment {
  cohort: Cohort;
  reason: CohortReason;
  /** The visitor's routing bucket, 0–9999. */
  bucket: number;
}

/** Inputs of {@link assignCohort}. */
export interface AssignCohortInput {
  visitorId: string;
  percent: number;
  salt: string;
  state: RolloutState;
  /** The kill switch's `canary` token. */
  killed: boolean;
  /** A QA override pinned by a signed link. */
  override?: Cohort;
}

/**
 * Routes a visitor: canary when `bucket(salt, id) < percent × 100`. Monotonic: raising the
 * percent only adds buckets, so no canary visitor ever falls back to stable while ramping up.
 * The kill switch and an aborted state beat everything, including a QA override; `idle` and
 * `finalized` rollouts send only QA overrides to the canary.
 *
 * @example
 * assignCohort({ visitorId: 'abc12345', percent: 10, salt: 's1', state: 'ramping', killed: false });
 * // { cohort: 'stable', reason: 'SPLIT', bucket: 6408 }
 */
export function assignCohort(input: AssignCohortInput): CohortAssignment {
  const visitorBucket = bucket(input.salt, input.visitorId);
  if (input.killed) return { cohort: 'stable', reason: 'KILLED', bucket: visitorBucket };
  if (input.state === 'aborted') return { cohort: 'stable', reason: 'ABORTED', bucket: visitorBucket };
  if (input.override) return { cohort: input.override, reason: 'OVERRIDE', bucket: visitorBucket };
  // `idle` and `finalized` have no canary by definition; a hand-edited config that gives them a
  // percent is not a live rollout (the guard does not watch it), so it sends nobody there.
  if (input.state === 'idle' || input.state === 'finalized')
    return { cohort: 'stable', reason: 'NOT_LIVE', bucket: visitorBucket };
  const cohort = inPercent(visitorBucket, input.percent) ? 'canary' : 'stable';
  return { cohort, reason: 'SPLIT', bucket: visitorBucket };
}

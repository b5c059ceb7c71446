import type { Cohort } from '../../../src/split/decide-visitor';
import { bucket, inPercent } from '../../../src/split/bucket';
import type { CohortObservation } from './visitor';

/** A stretch of time during which the config did not change: no admin write was in flight. */
export interface StableWindow {
  from: number;
  to: number;
  percent: number;
  salt: string;
}

/**
 * Compares each observation that lies wholly inside a quiet window with the documented
 * assignment, `bucket(salt, id) < percent × 100`. Returns how many were checked and the
 * mismatches.
 *
 * @example
 * expectedCohortMismatches('visitor-id', visitor.seen, windows); // { checked: 5, mismatches: [] }
 */
export function expectedCohortMismatches(
  visitorId: string,
  seen: readonly CohortObservation[],
  windows: readonly StableWindow[],
): { checked: number; mismatches: string[] } {
  let checked = 0;
  const mismatches: string[] = [];
  seen.forEach((observation, index) => {
    const window = windows.find((w) => observation.startedAt >= w.from && observation.finishedAt <= w.to);
    if (!window) return;
    checked++;
    const expected: Cohort = inPercent(bucket(window.salt, visitorId), window.percent) ? 'canary' : 'stable';
    if (observation.cohort !== expected)
      mismatches.push(`request ${index} at ${window.percent} %: ${observation.cohort}, expected ${expected}`);
  });
  return { checked, mismatches };
}

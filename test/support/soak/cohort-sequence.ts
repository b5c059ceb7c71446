import type { CohortObservation } from './visitor';

/** When an admin operation was sent and when its answer came back (`performance.now()`). */
export interface OpWindow {
  issuedAt: number;
  doneAt: number;
}

/**
 * The ways one visitor's cohort sequence breaks the ramp contract, given when the abort was
 * sent: while ramping up a visitor may only move stable → canary; only a request that ended
 * after the abort was sent may move canary → stable; a request sent after the abort was
 * answered must be stable; and no visitor goes back and forth. Requests in flight during the
 * abort may fall either side of it, so their timing is judged by these bounds, never guessed.
 *
 * @example
 * cohortSequenceViolations(visitor.seen, abortWindow); // [] when the sequence is allowed
 */
export function cohortSequenceViolations(seen: readonly CohortObservation[], abort: OpWindow): string[] {
  const violations: string[] = [];
  let movedBack = false;
  seen.forEach((current, index) => {
    if (current.cohort === 'canary' && current.startedAt > abort.doneAt)
      violations.push(`request ${index}: canary after the abort was answered`);
    const previous = seen[index - 1];
    if (!previous || previous.cohort === current.cohort) return;
    if (current.cohort === 'stable') {
      if (current.finishedAt < abort.issuedAt)
        violations.push(`request ${index}: canary → stable while ramping up`);
      movedBack = true;
    } else if (movedBack) {
      violations.push(`request ${index}: stable → canary after moving back to stable (back and forth)`);
    }
  });
  return violations;
}

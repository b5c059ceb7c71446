import type { RolloutConfig } from '../config/config-schema';
import type { ScheduleStatus } from './verdict';

/** What the step schedule allows right now. */
export type StepPlan =
  | { kind: 'none' }
  | { kind: 'hold'; status: ScheduleStatus }
  | { kind: 'due'; next: number; bakeStartedMs: number; status: ScheduleStatus };

const MINUTE_MS = 60_000;

/**
 * Decides whether the schedule's next step is due: the rollout is ramping, a higher step
 * exists, and the current percent has been set for at least `bakeMinutes` (from `stepStartedAt`).
 * Whether it is also healthy is the caller's judgement. A paused, promoted or aborted rollout is
 * never advanced, and without `stepStartedAt` the bake cannot be timed, so nothing is due.
 *
 * @example
 * const plan = planStep(config.rollout, clock.now());
 * if (plan.kind === 'due') await commands.setPercent(plan.next, ...);
 */
export function planStep(rollout: RolloutConfig['rollout'], nowMs: number): StepPlan {
  if (!rollout.steps) return { kind: 'none' };
  const current = rollout.percent;
  const next = rollout.steps.find((step) => step > current) ?? null;
  const startedMs = rollout.stepStartedAt ? Date.parse(rollout.stepStartedAt) : undefined;
  const bakeEndsMs = startedMs === undefined ? undefined : startedMs + rollout.bakeMinutes * MINUTE_MS;
  const status = (note: string): ScheduleStatus => ({
    current,
    next,
    bakeEndsAt: bakeEndsMs === undefined ? null : new Date(bakeEndsMs).toISOString(),
    note,
  });
  if (next === null) return { kind: 'hold', status: status('schedule complete; promoting is up to ops') };
  if (rollout.state !== 'ramping')
    return {
      kind: 'hold',
      status: status(`rollout is ${rollout.state}; only a ramping rollout is advanced`),
    };
  if (startedMs === undefined || bakeEndsMs === undefined)
    return { kind: 'hold', status: status('stepStartedAt is not set, so the bake cannot be timed') };
  if (nowMs < bakeEndsMs) {
    const left = Math.ceil((bakeEndsMs - nowMs) / MINUTE_MS);
    return { kind: 'hold', status: status(`baking: ${left} min left at ${current} %`) };
  }
  return {
    kind: 'due',
    next,
    bakeStartedMs: startedMs,
    status: status(`baked ${rollout.bakeMinutes} min at ${current} %`),
  };
}

import type { RolloutConfig } from '../config/config-schema';
import {
  analyzeCanary,
  describeWindow,
  type GuardAction,
  type ScheduleStatus,
  type Verdict,
} from './analyze-canary';
import type { GuardDeps, StatsWindow } from './guard-ports';
import type { Thresholds } from './guard-settings';
import { guardMessage } from './guard-notifier';

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

type Healthy = Extract<Verdict, { status: 'healthy' }>;

/** What happened to the schedule on a healthy run. */
export interface StepOutcome {
  action: GuardAction;
  schedule?: ScheduleStatus;
}

/**
 * Advances the step schedule by one step when it is due and the canary has been healthy over the
 * *whole* bake window: the window since `stepStartedAt` is queried and judged with the same
 * thresholds, on top of the healthy recent verdict. Stateless by design: a missed cron run or a
 * restarted isolate cannot make it skip or repeat a step. The command carries the config version
 * judged (`If-Match`), so a change made by ops in between wins.
 */
export async function advanceStep(
  deps: GuardDeps,
  config: RolloutConfig,
  thresholds: Thresholds,
  verdict: Healthy,
): Promise<StepOutcome> {
  const plan = planStep(config.rollout, deps.clock.now());
  if (plan.kind === 'none') return { action: { type: 'none', why: 'healthy; no step schedule' } };
  if (plan.kind === 'hold') return { action: { type: 'none', why: plan.status.note }, schedule: plan.status };

  const bakeWindow: StatsWindow = { sinceEpochSeconds: Math.floor(plan.bakeStartedMs / 1000) };
  const bake = await deps.stats.read(bakeWindow);
  if (!bake.ok) {
    deps.logger.error('guard cannot read the bake window; not advancing', { error: bake.error });
    return { action: { type: 'none', why: `bake window unreadable: ${bake.error}` }, schedule: plan.status };
  }
  const bakeVerdict = analyzeCanary(bake.stats, thresholds, describeWindow(bakeWindow));
  if (bakeVerdict.status !== 'healthy') {
    const why =
      bakeVerdict.status === 'breach'
        ? bakeVerdict.reasons.map((reason) => reason.message).join('; ')
        : bakeVerdict.reason;
    return { action: { type: 'none', why: `bake window not healthy: ${why}` }, schedule: plan.status };
  }

  const from = config.rollout.percent;
  const result = await deps.commands.setPercent(plan.next, {
    ifMatch: config.version,
    reason: `guard: healthy for ${config.rollout.bakeMinutes} min at ${from} %`,
  });
  if (!result.ok) {
    const error = `${result.status} ${result.error}`;
    deps.logger.error('guard could not advance the canary', { to: plan.next, error });
    return { action: { type: 'advance-failed', to: plan.next, error }, schedule: plan.status };
  }
  deps.logger.info('guard advanced the canary', { from, to: plan.next, version: result.version });
  await deps.notifier.notify(
    guardMessage(
      { type: 'advanced', from, to: plan.next, version: result.version, numbers: verdict.numbers },
      deps.environment,
    ),
  );
  const following = config.rollout.steps?.find((step) => step > plan.next) ?? null;
  const bakeEndsAt = new Date(deps.clock.now() + config.rollout.bakeMinutes * 60_000).toISOString();
  return {
    action: { type: 'advanced', from, to: plan.next, version: result.version },
    schedule: {
      current: plan.next,
      next: following,
      bakeEndsAt,
      note: `advanced ${from} % → ${plan.next} %`,
    },
  };
}

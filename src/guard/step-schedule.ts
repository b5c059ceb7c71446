import type { RolloutConfig } from '../config/config-schema';
import {
  analyzeCanary,
  describeWindow,
  type GuardAction,
  type ScheduleStatus,
  type Verdict,
} from './analyze-canary';
import type { GuardDeps, StatsWindow } from './guard-ports';
import type { GuardPolicy, Thresholds } from './guard-settings';
import { guardMessage } from './guard-notifier';

/** What the step schedule allows right now. */
export type StepPlan =
  | { kind: 'none' }
  | { kind: 'hold'; status: ScheduleStatus }
  | { kind: 'due'; next: number; bakeStartedMs: number; status: ScheduleStatus };

const MINUTE_MS = 60_000;

/**
 * Decides whether the schedule's next step is due: the rollout is ramping, a higher step
 * exists, and the current percent has baked for at least `bakeMinutes`. The bake counts from
 * `bakeFromMs` when given (the moment the step's config had propagated), from `stepStartedAt`
 * when it is undefined; `null` means the step's config has not propagated yet, so the bake has
 * not begun. Whether it is also healthy is the caller's judgement. A paused, promoted or aborted
 * rollout is never advanced, and without `stepStartedAt` the bake cannot be timed.
 *
 * @example
 * const plan = planStep(config.rollout, clock.now(), Date.parse(propagation.bakeStartedAt));
 * if (plan.kind === 'due') await commands.setPercent(plan.next, ...);
 */
export function planStep(
  rollout: RolloutConfig['rollout'],
  nowMs: number,
  bakeFromMs?: number | null,
  waitingFor = "the step's config to propagate",
): StepPlan {
  if (!rollout.steps) return { kind: 'none' };
  const current = rollout.percent;
  const next = rollout.steps.find((step) => step > current) ?? null;
  const stepMs = rollout.stepStartedAt ? Date.parse(rollout.stepStartedAt) : undefined;
  const startedMs =
    bakeFromMs === undefined ? stepMs : stepMs === undefined ? undefined : (bakeFromMs ?? undefined);
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
  if (stepMs === undefined)
    return { kind: 'hold', status: status('stepStartedAt is not set, so the bake cannot be timed') };
  if (startedMs === undefined || bakeEndsMs === undefined)
    return { kind: 'hold', status: status(`bake not started: waiting for ${waitingFor}`) };
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

/** What {@link advanceStep} knows beyond the verdict: the streak, the policy, the propagation. */
export interface StepContext {
  /** Consecutive healthy runs on this step, this one included. */
  healthyRuns: number;
  policy: GuardPolicy;
  /** When the step's bake began (its config had propagated); null while it has not. */
  bakeFromMs: number | null;
  /** What the bake waits for, in words (`v14 to reach 99 % of requests (97.4 % last minute)`). */
  waitingFor: string;
  /** The window filters every read uses (Worker version, routes). */
  filters: Omit<StatsWindow, 'lastMinutes' | 'sinceEpochSeconds'>;
}

/**
 * Advances the step schedule by one step when it is due, the canary has been healthy for
 * `consecutiveHealthyRuns` runs in a row, and it has been healthy over the *whole* bake window:
 * the window since the bake began is queried and judged with the same thresholds, on top of the
 * healthy recent verdicts. The command carries the config version judged (`If-Match`), so a
 * change made by ops in between wins.
 */
export async function advanceStep(
  deps: GuardDeps,
  config: RolloutConfig,
  thresholds: Thresholds,
  verdict: Healthy,
  context: StepContext,
): Promise<StepOutcome> {
  const plan = planStep(config.rollout, deps.clock.now(), context.bakeFromMs, context.waitingFor);
  if (plan.kind === 'none') return { action: { type: 'none', why: 'healthy; no step schedule' } };
  if (plan.kind === 'hold') return { action: { type: 'none', why: plan.status.note }, schedule: plan.status };
  const needed = context.policy.consecutiveHealthyRuns;
  if (context.healthyRuns < needed) {
    const note = `baked; healthy ${context.healthyRuns} of ${needed} consecutive runs`;
    return { action: { type: 'none', why: note }, schedule: { ...plan.status, note } };
  }

  const bakeWindow: StatsWindow = {
    sinceEpochSeconds: Math.floor(plan.bakeStartedMs / 1000),
    ...context.filters,
  };
  const bake = await deps.stats.read(bakeWindow);
  if (!bake.ok) {
    deps.logger.error('guard cannot read the bake window; not advancing', { error: bake.error });
    return { action: { type: 'none', why: `bake window unreadable: ${bake.error}` }, schedule: plan.status };
  }
  const bakeVerdict = analyzeCanary(bake.stats, thresholds, describeWindow(bakeWindow), {
    policy: context.policy,
  });
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
    reason: `guard: healthy for ${config.rollout.bakeMinutes} min at ${from} % (${context.healthyRuns} consecutive healthy runs)`,
  });
  if (!result.ok) {
    const error = `${result.status} ${result.error}`;
    deps.logger.error('guard could not advance the canary', { to: plan.next, error });
    return { action: { type: 'advance-failed', to: plan.next, error }, schedule: plan.status };
  }
  deps.logger.info('guard advanced the canary', { from, to: plan.next, version: result.version });
  await deps.notifier.notify(
    guardMessage(
      {
        type: 'advanced',
        from,
        to: plan.next,
        version: result.version,
        numbers: verdict.numbers,
        table: verdict.table,
      },
      deps.environment,
    ),
  );
  const following = config.rollout.steps?.find((step) => step > plan.next) ?? null;
  return {
    action: { type: 'advanced', from, to: plan.next, version: result.version },
    schedule: {
      current: plan.next,
      next: following,
      // The new step bakes once its config has propagated, which a later run sees.
      bakeEndsAt: null,
      note: `advanced ${from} % → ${plan.next} %; the bake starts once v${result.version} reaches ${context.policy.minPropagationPercent} % of requests`,
    },
  };
}

import type { RolloutConfig } from '../config/config-schema';
import {
  analyzeCanary,
  describeWindow,
  type GuardAction,
  type GuardVerdictRecord,
  type ScheduleStatus,
} from './analyze-canary';
import type { GuardDeps, StatsWindow } from './guard-ports';
import { resolveThresholds } from './guard-settings';
import { handleBreach } from './handle-breach';
import { advanceStep, planStep } from './step-schedule';

/** What one run did: skipped (with why), or judged and recorded. */
export type GuardRunResult = { ran: false; why: string } | { ran: true; record: GuardVerdictRecord };

// States in which canary traffic flows and is worth judging.
const JUDGED_STATES = new Set(['ramping', 'paused', 'promoted']);

/**
 * One guard run (every minute on the Cron Trigger):
 * 1. skip unless a canary is live (ramping, paused or promoted, percent > 0, not killed) in a
 *    config actually read from KV;
 * 2. read both cohorts over the last `errorWindowMinutes` and judge them ({@link analyzeCanary});
 * 3. breach → abort and notify, once per incident; healthy → maybe advance the step schedule;
 *    inconclusive → nothing; unreadable data → `unknown`, nothing, one error report per outage;
 * 4. store the verdict, its numbers and the action under `guard:verdict`.
 */
export async function runGuard(deps: GuardDeps): Promise<GuardRunResult> {
  const snapshot = await deps.readConfig();
  const { config } = snapshot;
  if (snapshot.source !== 'kv')
    return {
      ran: false,
      why: `config comes from the ${snapshot.source}; the guard acts only on the stored config`,
    };
  if (!JUDGED_STATES.has(config.rollout.state) || config.rollout.percent <= 0)
    return {
      ran: false,
      why: `no live canary (rollout ${config.rollout.state} at ${config.rollout.percent} %)`,
    };
  if (snapshot.kill.canary) return { ran: false, why: 'the kill switch stops the canary' };

  const thresholds = resolveThresholds(config.thresholds);
  const window = currentWindow(thresholds.errorWindowMinutes, config.rollout.stepStartedAt, deps.clock.now());
  const at = new Date(deps.clock.now()).toISOString();
  const [previous, read] = await Promise.all([deps.state.readVerdict(), deps.stats.read(window)]);

  if (!read.ok) {
    reportUnreadable(deps, read.error, previous);
    const record: GuardVerdictRecord = {
      status: 'unknown',
      reason: read.error,
      at,
      action: { type: 'none', why: 'no data, no action' },
      schedule: scheduleStatus(config, deps.clock.now()),
    };
    await deps.state.writeVerdict(record);
    return { ran: true, record };
  }
  if (previous?.status === 'unknown')
    deps.logger.info('guard can read metrics again', { since: previous.at });

  const verdict = analyzeCanary(read.stats, thresholds, describeWindow(window));
  let action: GuardAction;
  let schedule = scheduleStatus(config, deps.clock.now());
  if (verdict.status === 'breach') {
    action = await handleBreach(deps, config, verdict);
  } else if (verdict.status === 'healthy') {
    const step = await advanceStep(deps, config, thresholds, verdict);
    action = step.action;
    schedule = step.schedule ?? schedule;
  } else {
    action = { type: 'none', why: verdict.reason };
  }
  const record: GuardVerdictRecord = { ...verdict, at, action, schedule };
  await deps.state.writeVerdict(record);
  deps.logger.info('guard verdict', {
    status: verdict.status,
    action: action.type,
    percent: config.rollout.percent,
  });
  return { ran: true, record };
}

/**
 * The last N minutes, but never before the current step began: rows from an earlier step (or
 * from a canary already aborted and since fixed) must not be blamed on this one.
 */
function currentWindow(minutes: number, stepStartedAt: string | undefined, nowMs: number): StatsWindow {
  const stepStartMs = stepStartedAt ? Date.parse(stepStartedAt) : NaN;
  if (!(stepStartMs > nowMs - minutes * 60_000)) return { lastMinutes: minutes };
  return { sinceEpochSeconds: Math.floor(stepStartMs / 1000) };
}

// One error report per outage: the first unreadable run reports, later ones only log.
function reportUnreadable(deps: GuardDeps, error: string, previous: GuardVerdictRecord | undefined): void {
  if (previous?.status === 'unknown') {
    deps.logger.warn('guard still cannot read metrics; no action', { error, lastFailedAt: previous.at });
    return;
  }
  deps.logger.error('guard cannot read metrics; no action', { error });
  deps.reporter.captureMessage(`edge-rollout guard cannot read Analytics Engine: ${error}`, 'error', {
    tags: { component: 'guard' },
  });
}

function scheduleStatus(config: RolloutConfig, nowMs: number): ScheduleStatus | undefined {
  const plan = planStep(config.rollout, nowMs);
  return plan.kind === 'none' ? undefined : plan.status;
}

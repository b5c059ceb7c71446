import type { RolloutConfig } from '../config/config-schema';
import {
  analyzeCanary,
  describeWindow,
  type GuardAction,
  type GuardStreak,
  type GuardVerdictRecord,
  type ScheduleStatus,
} from './analyze-canary';
import type { GuardDeps, StatsWindow } from './guard-ports';
import { resolveGuardPolicy, resolveThresholds } from './guard-settings';
import { handleBreach } from './handle-breach';
import { pauseRollout, reportMismatch, scheduleIsLive } from './pause-rollout';
import { advanceStep, planStep } from './step-schedule';
import { sampleRatioTest } from './sample-ratio';
import { splitCounts, trackPropagation, versionShares, type Propagation } from './traffic-split';

/**
 * What one run did: skipped (with why; `controlUnreachable` when the control plane did not
 * answer, which the caller reports once per outage), or judged and recorded.
 */
export type GuardRunResult =
  { ran: false; why: string; controlUnreachable?: true } | { ran: true; record: GuardVerdictRecord };

// States in which canary traffic flows and is worth judging.
const JUDGED_STATES = new Set(['ramping', 'paused', 'promoted']);

/**
 * One guard run (every minute on the Cron Trigger):
 * 1. skip unless a canary is live (ramping, paused or promoted, percent > 0, not killed) in a
 *    config actually read from the store; skip without writing anything when the control plane
 *    (the single writer) cannot be reached;
 * 2. read the window (both cohorts, the traffic split, per-route outcomes when set), test the
 *    split against the percent, track the step's propagation and build the verdict table
 *    ({@link analyzeCanary});
 * 3. breach → abort and notify, once per incident; a sample-ratio mismatch, or too many
 *    inconclusive runs in a row, → pause a live schedule and notify; healthy → maybe advance the
 *    step schedule (after N healthy runs in a row and a bake from propagation); unreadable data →
 *    `unknown`, nothing, one error report per outage;
 * 4. store the verdict with its table, SQL, streak and propagation under `guard:verdict`.
 */
export async function runGuard(deps: GuardDeps): Promise<GuardRunResult> {
  const snapshot = await deps.readConfig();
  if (snapshot.source === 'control-unreachable')
    return {
      ran: false,
      why: `the control plane is unreachable (${snapshot.error}); nothing judged, nothing written`,
      controlUnreachable: true,
    };
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
  const policy = resolveGuardPolicy(config.guard);
  const filters = {
    ...(policy.workerVersion === undefined ? {} : { workerVersion: policy.workerVersion }),
    ...(Object.keys(policy.routes).length > 0 ? { withRoutes: true } : {}),
    slowerThanMs: thresholds.maxP95Ms,
  };
  const window: StatsWindow = {
    ...currentWindow(thresholds.errorWindowMinutes, config.rollout.stepStartedAt, deps.clock.now()),
    ...filters,
  };
  const stepStart = stepWindow(window, config.rollout.stepStartedAt, deps.clock.now());
  const stepRead = stepStart ? { sinceEpochSeconds: stepStart, ...filters } : undefined;
  const at = new Date(deps.clock.now()).toISOString();
  const [previous, read, longRead] = await Promise.all([
    deps.state.readVerdict(),
    deps.stats.read(window),
    stepRead ? deps.stats.read(stepRead) : undefined,
  ]);
  const stepStartedAt = config.rollout.stepStartedAt ?? null;
  const sameStep = previous?.streak?.stepStartedAt === stepStartedAt;
  const streak: GuardStreak = sameStep
    ? { ...previous!.streak! }
    : { healthy: 0, inconclusive: 0, stepStartedAt };
  const common = {
    at,
    configVersion: config.version,
    ...(policy.workerVersion === undefined ? {} : { workerVersion: policy.workerVersion }),
  };

  if (!read.ok || longRead?.ok === false) {
    const error = !read.ok ? read.error : longRead?.ok === false ? longRead.error : '';
    reportUnreadable(deps, error, previous);
    const propagation =
      previous?.propagation?.stepStartedAt === stepStartedAt ? previous?.propagation : undefined;
    const record: GuardVerdictRecord = {
      status: 'unknown',
      reason: error,
      ...common,
      action: { type: 'none', why: 'no data, no action' },
      schedule: scheduleStatus(config, deps.clock.now(), bakeFrom(propagation)),
      // Unreadable data proves nothing healthy: the healthy streak starts over.
      streak: { ...streak, healthy: 0 },
      ...(propagation ? { propagation } : {}),
    };
    await deps.state.writeVerdict(record);
    return { ran: true, record };
  }
  if (previous?.status === 'unknown')
    deps.logger.info('guard can read metrics again', { since: previous.at });

  const traffic = read.stats.traffic ?? [];
  // The split, propagation and the step's judgement read the whole step when it is longer.
  const stepStats = longRead?.ok ? longRead.stats : undefined;
  const stepTraffic = stepStats?.traffic ?? traffic;
  const looked = previous?.configVersion === config.version ? (previous.srm?.mismatches ?? 0) : 0;
  const srm = sampleRatioTest(
    splitCounts(stepTraffic, config.version),
    config.rollout.percent,
    policy.srmPValue,
    looked,
  );
  const propagation =
    stepStartedAt === null
      ? undefined
      : trackPropagation(
          previous?.propagation,
          { version: config.version, stepStartedAt },
          stepTraffic,
          policy.minPropagationPercent,
        );
  const verdict = analyzeCanary(read.stats, thresholds, describeWindow(window), {
    policy,
    srm,
    ...(stepStats && stepRead ? { sinceStep: { stats: stepStats, window: describeWindow(stepRead) } } : {}),
  });
  streak.healthy = verdict.status === 'healthy' ? streak.healthy + 1 : 0;
  streak.inconclusive = verdict.status === 'inconclusive' ? streak.inconclusive + 1 : 0;
  const srmActs = srm.class === 'fail' && !policy.dryRun.includes('srm') && policy.srmAction === 'pause';

  let action: GuardAction;
  let schedule = scheduleStatus(config, deps.clock.now(), bakeFrom(propagation));
  const judged = { numbers: verdict.numbers, table: verdict.table };
  if (verdict.status === 'breach') {
    action = await handleBreach(deps, config, verdict);
  } else if (srmActs) {
    action = scheduleIsLive(config)
      ? await pauseRollout(deps, config, { kind: 'srm', message: srm.note }, judged, previous)
      : await reportMismatch(deps, config, srm.note, previous, judged);
  } else if (verdict.status === 'healthy') {
    const step = await advanceStep(deps, config, thresholds, verdict, {
      healthyRuns: streak.healthy,
      policy,
      bakeFromMs: bakeFrom(propagation) ?? null,
      waitingFor: propagation ? waitingFor(propagation) : "the step's config to propagate",
      filters,
    });
    action = step.action;
    schedule = step.schedule ?? schedule;
  } else if (streak.inconclusive >= policy.inconclusiveLimit && scheduleIsLive(config)) {
    action = await pauseRollout(
      deps,
      config,
      { kind: 'inconclusive', runs: streak.inconclusive, reason: verdict.reason },
      judged,
      previous,
    );
    if (action.type === 'paused') streak.inconclusive = 0;
  } else {
    action = { type: 'none', why: verdict.reason };
  }
  const record: GuardVerdictRecord = {
    ...verdict,
    ...common,
    action,
    schedule,
    streak,
    srm,
    ...(propagation ? { propagation } : {}),
    configVersions: versionShares(traffic, (row) => row.configVersion),
    workerVersions: versionShares(traffic, (row) => row.workerVersion),
    ...(read.sql ? { sql: [...read.sql, ...(longRead?.ok ? (longRead.sql ?? []) : [])] } : {}),
  };
  await deps.state.writeVerdict(record);
  deps.logger.info('guard verdict', {
    status: verdict.status,
    action: action.type,
    percent: config.rollout.percent,
  });
  return { ran: true, record };
}

// The bake's start: undefined without a tracked step (old rule: from stepStartedAt), null while
// the step's config has not propagated.
function bakeFrom(propagation: Propagation | undefined): number | null | undefined {
  if (!propagation) return undefined;
  return propagation.bakeStartedAt === null ? null : Date.parse(propagation.bakeStartedAt);
}

function waitingFor(p: Propagation): string {
  const last = p.lastMinute
    ? `${p.lastMinute.percent.toFixed(1)} % of the last minute`
    : 'no traffic seen yet';
  return `v${p.version} to reach ${p.threshold} % of a minute's requests (${last})`;
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

/** The longest step window the guard reads, in minutes: a day (a longer step is judged on its last day). */
export const STEP_WINDOW_MAX_MINUTES = 1440;

/**
 * The start (epoch seconds) of the window since the step began, when it reaches further back
 * than the recent window; otherwise undefined (the recent window already is the whole step).
 */
function stepWindow(
  recent: StatsWindow,
  stepStartedAt: string | undefined,
  nowMs: number,
): number | undefined {
  const stepStartMs = stepStartedAt ? Date.parse(stepStartedAt) : NaN;
  if (!('lastMinutes' in recent) || !Number.isFinite(stepStartMs)) return undefined;
  const from = Math.max(stepStartMs, nowMs - STEP_WINDOW_MAX_MINUTES * 60_000);
  return Math.floor(from / 1000);
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

function scheduleStatus(
  config: RolloutConfig,
  nowMs: number,
  bakeFromMs: number | null | undefined,
): ScheduleStatus | undefined {
  const plan = planStep(config.rollout, nowMs, bakeFromMs);
  return plan.kind === 'none' ? undefined : plan.status;
}

import type { StatsWindow } from '../metrics/queries';
import type { Clock, ConfigSnapshot, ErrorReporter, Logger } from '../ports';
import type { WindowStatsResult } from './analytics-sql';
import type { GuardVerdictRecord } from './analyze-canary';
import type { GuardIncident } from './handle-breach';
import type { Notifier } from './guard-notifier';
import type { ProbeStreakStore } from './origin-probes';

export type { StatsWindow };

/** KV key of the guard's latest verdict ({@link GuardVerdictRecordSchema}); GET /state shows it. */
export const GUARD_VERDICT_KEY = 'guard:verdict';

/** KV key of the last incident the guard acted on ({@link GuardIncidentSchema}). */
export const GUARD_INCIDENT_KEY = 'guard:incident';

/** Everything one guard run talks to. */
export interface GuardDeps {
  readConfig: ReadConfig;
  stats: StatsSource;
  commands: RolloutCommands;
  state: GuardStateStore;
  /** The uptime probes' consecutive results, kept between runs. */
  probeStreaks: ProbeStreakStore;
  notifier: Notifier;
  reporter: ErrorReporter;
  logger: Logger;
  /** The run's time: bake times count against it. */
  clock: Clock;
  /** Named in notifications (`production`, `staging`). */
  environment?: string;
}

/** The result of a rollout command the guard issues. */
export type GuardCommandResult = { ok: true; version: number } | { ok: false; status: number; error: string };

/**
 * The rollout commands the guard may issue, through the same path as the admin API (so each one
 * is validated, audited with actor `guard`, and primes the isolate's config).
 */
export interface RolloutCommands {
  abort(reason: string): Promise<GuardCommandResult>;
  /** `ifMatch`: the config version the decision was made on; a newer config wins. */
  setPercent(percent: number, options: { ifMatch: number; reason: string }): Promise<GuardCommandResult>;
  /**
   * Pauses a ramping rollout (the `pause` command): the percent holds, the canary keeps its
   * protection, the step schedule stops until ops resume. `ifMatch` as for `setPercent`.
   */
  pause(options: { ifMatch: number; reason: string }): Promise<GuardCommandResult>;
}

/** Where the guard keeps its verdict and incident. Implementations never throw. */
export interface GuardStateStore {
  readVerdict(): Promise<GuardVerdictRecord | undefined>;
  writeVerdict(record: GuardVerdictRecord): Promise<void>;
  readIncident(): Promise<GuardIncident | undefined>;
  writeIncident(incident: GuardIncident): Promise<void>;
}

/** Per-cohort stats over a window. Implementations never throw. */
export interface StatsSource {
  read(window: StatsWindow): Promise<WindowStatsResult>;
}

/**
 * The control plane (the single writer) did not answer. The guard then neither judges nor acts:
 * a KV replica may lag behind the committed version, and an abort could not be written anyway.
 */
export interface ControlUnreachable {
  source: 'control-unreachable';
  error: string;
}

/** The committed config as the guard sees it, or why it cannot be read. */
export type ReadConfig = () => Promise<ConfigSnapshot | ControlUnreachable>;

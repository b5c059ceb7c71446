import type { ConfigSnapshot } from '../ports/config-store';
import type { GuardIncident } from './incident';
import type { WindowStatsResult } from './read-window-stats';
import type { StatsWindow } from './stats-window';
import type { GuardVerdictRecord } from './verdict';

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

/** The current config as the guard sees it. */
export type ReadConfig = () => Promise<ConfigSnapshot>;

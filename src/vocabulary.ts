/**
 * The words every part of edge-rollout speaks: cohorts, rollout states, the kill switch and the
 * data point. A leaf module: it imports nothing, so anything may import it without a cycle.
 */

/** Which deployment of the app serves a visitor. */
export type Cohort = 'stable' | 'canary';

/** Where a rollout is in its life (the config schema's `rollout.state`). */
export type RolloutState = 'idle' | 'ramping' | 'paused' | 'promoted' | 'finalized' | 'aborted';

/** What the kill switch currently forces, whatever the config says. */
export interface KillSwitch {
  /** Everyone to stable. */
  canary: boolean;
  /** Every flag off. */
  allFlags: boolean;
  /** These flags off. */
  flags: ReadonlySet<string>;
  /** Tokens that meant nothing; logged, never fatal. */
  unknownTokens: string[];
  /** Set when the value could not be read (too long, no known token): it then stops the canary. */
  unreadable?: string;
  /**
   * Bypass mode, the in-path emergency exit: every visitor path goes to stable as it came (no
   * cookie set, no flags), as if edge-rollout were not there. Absent means off.
   */
  bypass?: boolean;
}

/**
 * How a proxied request ended. `client` is a failure the visitor caused (an aborted, short or
 * too slow upload, a dropped connection): it is recorded, but never counted as a cohort's error,
 * latency or business failure, so a handful of hostile clients cannot make a canary look sick.
 */
export type RequestOutcome = 'ok' | 'error' | 'failover' | 'client';

/**
 * One proxied request (or a group of reported events), as the splitter saw it. `toDataPoint`
 * below encodes it.
 */
export interface RequestMetric {
  /** The cohort that finally served the request (stable after a failover). */
  cohort: Cohort;
  /** The cohort first chosen for the visitor. */
  assignedCohort: Cohort;
  configVersion: number;
  workerVersion: string;
  method: string;
  /** A business route name, or `other`. */
  route: string;
  /** The status sent to the client (0 when none). */
  status: number;
  outcome: RequestOutcome;
  /** Whether a business route's request succeeded (by its success rule); undefined elsewhere. */
  routeSuccess?: boolean;
  colo: string;
  country: string;
  totalMs: number;
  upstreamMs: number;
  failover: boolean;
  /** How many occurrences this record stands for (a reported event's `count`); 1 when absent. */
  occurrences?: number;
}

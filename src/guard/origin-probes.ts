import * as z from 'zod/mini';
import { PROBE_COLO, PROBE_METHOD, PROBE_ROUTE } from '../metrics/data-point-schema';
import type { ProbeSettingsSchema } from '../config/guard-config-schema';
import type { RequestMetric } from '../metrics/data-point-schema';
import type { Cohort } from '../split/decide-visitor';
import { escapeMrkdwn, type GuardMessage } from './guard-notifier';

/**
 * Uptime probes from the edge: each minute the scheduled handler requests a health path on both
 * origins. A canary that fails `failureThreshold` probes in a row is aborted, even when no visitor
 * reaches it (a low percent at night); a stable origin that does is an incident to announce,
 * never a reason to abort the canary (stable is where the abort would send everyone).
 * This module is the pure part: the settings, the data point of a probe, and the judgement over
 * consecutive results.
 */

// A probe's data point values belong to the data point schema; re-exported for the probes' callers.
export { PROBE_COLO, PROBE_METHOD, PROBE_ROUTE } from '../metrics/data-point-schema';

// Declared with the config schema (src/config); re-exported for the probes' callers.
export { ProbeSettingsSchema } from '../config/guard-config-schema';

/** Probe settings with every default applied. */
export interface ProbeSettings {
  path: string;
  expectedStatus: number;
  timeoutMs: number;
  failureThreshold: number;
}

/** The defaults of {@link ProbeSettingsSchema}. */
export const DEFAULT_PROBE_SETTINGS = { expectedStatus: 200, timeoutMs: 5_000, failureThreshold: 3 } as const;

/**
 * The settings of a config's `probes` section, or undefined when probing is off.
 *
 * @example
 * resolveProbeSettings({ path: '/health' })?.failureThreshold; // 3
 */
export function resolveProbeSettings(
  input: z.infer<typeof ProbeSettingsSchema> | undefined,
): ProbeSettings | undefined {
  if (!input) return undefined;
  return {
    path: input.path,
    expectedStatus: input.expectedStatus ?? DEFAULT_PROBE_SETTINGS.expectedStatus,
    timeoutMs: input.timeoutMs ?? DEFAULT_PROBE_SETTINGS.timeoutMs,
    failureThreshold: input.failureThreshold ?? DEFAULT_PROBE_SETTINGS.failureThreshold,
  };
}

/** What one probe of one origin saw. */
export interface ProbeResult {
  cohort: Cohort;
  ok: boolean;
  /** The origin's status (0 when it did not answer). */
  status: number;
  ms: number;
  /** Why it failed: `status 503 (expected 200)`, `timeout after 5000 ms`, a network error. */
  error?: string;
}

/**
 * The probe's data point: its own method and route, so request statistics never count it and
 * dashboards select it by route; `outcome` is `ok` or `error`.
 */
export function probeMetric(
  result: ProbeResult,
  context: { configVersion: number; workerVersion: string },
): RequestMetric {
  return {
    cohort: result.cohort,
    assignedCohort: result.cohort,
    configVersion: context.configVersion,
    workerVersion: context.workerVersion,
    method: PROBE_METHOD,
    route: PROBE_ROUTE,
    status: result.status,
    outcome: result.ok ? 'ok' : 'error',
    colo: PROBE_COLO,
    country: 'XX',
    totalMs: result.ms,
    upstreamMs: result.ms,
    failover: false,
  };
}

const CohortStreakSchema = z.object({
  /** Failed probes in a row (0 after a success). */
  failures: z.int().check(z.gte(0)),
  /** When the first failure of the run of failures was seen. */
  since: z.nullable(z.string()),
  lastError: z.nullable(z.string()),
  /** Whether this run of failures was announced (abort, failed abort or outage notice). */
  announced: z.boolean(),
  /**
   * The canary's: the config version its abort was announced on. A newer version (the abort
   * landed, or ops ramped again) is a rollout started anew, whose abort is announced again.
   */
  announcedVersion: z.optional(z.int()),
});

/** The consecutive failures of both origins, carried from one minute to the next. */
export const ProbeStreaksSchema = z.object({ stable: CohortStreakSchema, canary: CohortStreakSchema });

export type CohortStreak = z.infer<typeof CohortStreakSchema>;
export type ProbeStreaks = z.infer<typeof ProbeStreaksSchema>;

const CLEAN: CohortStreak = { failures: 0, since: null, lastError: null, announced: false };

/** Where the streaks live between runs. Implementations never throw. */
export interface ProbeStreakStore {
  read(): Promise<ProbeStreaks | undefined>;
  write(streaks: ProbeStreaks): Promise<void>;
}

/** What the probe results call for. */
export type ProbeAction =
  /** `announce`: false when a failed abort of this run of failures was already announced. */
  | { type: 'abort-canary'; failures: number; since: string; lastError: string; announce: boolean }
  | { type: 'stable-down'; failures: number; since: string; lastError: string }
  | { type: 'stable-up'; downSince: string | null };

/**
 * Judges one minute's probe results against the streaks so far: a success clears its origin's
 * streak; a failure extends it. The canary is aborted while it is live and has failed
 * `failureThreshold` probes in a row (every run, until the abort lands; announced once per
 * config version, so a rollout ramped again after an abort is announced anew); a stable origin
 * that has is announced once per outage, and once more when it answers again.
 *
 * @example
 * const { streaks, actions } = judgeProbes(previous, results, { failureThreshold: 3, canaryLive: true, configVersion: 7, at });
 */
export function judgeProbes(
  previous: ProbeStreaks | undefined,
  results: readonly ProbeResult[],
  options: { failureThreshold: number; canaryLive: boolean; configVersion: number; at: string },
): { streaks: ProbeStreaks; actions: ProbeAction[] } {
  const streaks: ProbeStreaks = { stable: previous?.stable ?? CLEAN, canary: previous?.canary ?? CLEAN };
  const actions: ProbeAction[] = [];
  for (const result of results) {
    const before = streaks[result.cohort];
    if (result.ok) {
      if (result.cohort === 'stable' && before.announced)
        actions.push({ type: 'stable-up', downSince: before.since });
      streaks[result.cohort] = CLEAN;
      continue;
    }
    // The canary's announcement holds for the config version it was made on: once the abort
    // landed, or ops ramped again, that rollout is over and a new abort is news.
    const announced =
      result.cohort === 'canary'
        ? before.announced && before.announcedVersion === options.configVersion
        : before.announced;
    const after: CohortStreak = {
      failures: before.failures + 1,
      since: before.since ?? options.at,
      lastError: result.error ?? `status ${result.status}`,
      announced,
      ...(result.cohort === 'canary' && announced ? { announcedVersion: options.configVersion } : {}),
    };
    const due = after.failures >= options.failureThreshold;
    const detail = { failures: after.failures, since: after.since!, lastError: after.lastError! };
    if (result.cohort === 'canary' && due && options.canaryLive) {
      actions.push({ type: 'abort-canary', ...detail, announce: !after.announced });
      after.announced = true;
      after.announcedVersion = options.configVersion;
    } else if (result.cohort === 'stable' && due && !after.announced) {
      actions.push({ type: 'stable-down', ...detail });
      after.announced = true;
    }
    streaks[result.cohort] = after;
  }
  return { streaks, actions };
}

/** The abort reason a canary probe breach is audited with. */
export function probeAbortReason(
  action: Extract<ProbeAction, { type: 'abort-canary' }>,
  path: string,
): string {
  return `guard: canary origin failed ${action.failures} health probes in a row on ${path} (last: ${action.lastError})`;
}

/** What a probe notice is about. */
export type ProbeEvent =
  | {
      type: 'canary-aborted';
      version: number;
      percent: number;
      action: Extract<ProbeAction, { type: 'abort-canary' }>;
    }
  | { type: 'canary-abort-failed'; error: string; action: Extract<ProbeAction, { type: 'abort-canary' }> }
  | { type: 'stable-down'; action: Extract<ProbeAction, { type: 'stable-down' }> }
  | { type: 'stable-up'; action: Extract<ProbeAction, { type: 'stable-up' }> };

/**
 * The webhook message for a probe event, in the guard's message format.
 *
 * @example
 * await notifier.notify(probeMessage({ type: 'stable-down', action }, '/health', 'production'));
 */
export function probeMessage(event: ProbeEvent, path: string, environment = ''): GuardMessage {
  const where = environment ? ` (${environment})` : '';
  const headline = probeHeadline(event, path, where);
  const detail =
    event.type === 'stable-up'
      ? `down since ${event.action.downSince ?? 'unknown'}`
      : `failing since ${event.action.since}; last: ${event.action.lastError}`;
  return {
    text: escapeMrkdwn(headline),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(`${headline}\n${detail}`) } }],
  };
}

function probeHeadline(event: ProbeEvent, path: string, where: string): string {
  switch (event.type) {
    case 'canary-aborted':
      return `edge-rollout guard aborted the canary at ${event.percent} %${where}: the canary origin failed ${event.action.failures} health probes in a row on ${path}. Everyone is back on stable (config v${event.version}).`;
    case 'canary-abort-failed':
      return `edge-rollout guard saw the canary origin fail ${event.action.failures} health probes in a row on ${path}${where} but could not abort: ${event.error}. It retries every minute; abort by hand if this persists.`;
    case 'stable-down':
      return `edge-rollout: the STABLE origin failed ${event.action.failures} health probes in a row on ${path}${where}. The canary is not aborted (stable is where an abort sends everyone): check the stable origin now.`;
    case 'stable-up':
      return `edge-rollout: the stable origin answers its health probe on ${path} again${where}.`;
  }
}

import * as z from 'zod/mini';
import type { SplitCounts } from './sample-ratio';

/**
 * What the traffic-split query (src/metrics/queries.ts) returns, one row per minute, config
 * version, Worker version and assigned cohort. `requests` and `failovers` are weighted by
 * `_sample_interval`; `storedRequests` is the rows kept.
 */
export interface TrafficRow {
  /** The minute's start, in epoch seconds. */
  minute: number;
  configVersion: string;
  workerVersion: string;
  cohort: string;
  requests: number;
  /** Of `requests`, those a failed canary GET/HEAD replayed on stable (still counted as canary). */
  failovers: number;
  /** Stored rows (the split test's sample); absent, `requests` stands in. */
  storedRequests?: number;
}

const count = z.number().check(z.gte(0));

/** How far a step's config version has reached, as stored with the verdict. */
export const PropagationSchema = z.object({
  /** The config version the step needs served (the first version the guard saw for the step). */
  version: z.int(),
  /** The step it belongs to (`rollout.stepStartedAt`). */
  stepStartedAt: z.string(),
  /** The newest minute with traffic: its start and the share at `version` or newer. */
  lastMinute: z.nullable(z.object({ at: z.string(), percent: z.number(), requests: count })),
  /** When the bake began: the first minute in which the share reached the threshold (null until then). */
  bakeStartedAt: z.nullable(z.string()),
  /** The share the bake waits for. */
  threshold: z.number(),
});

/** A step's propagation. */
export type Propagation = z.infer<typeof PropagationSchema>;

/** One config or Worker version's share of the window's requests. */
export const VersionShareSchema = z.object({ version: z.string(), requests: count, percent: z.number() });

/** A version's share. */
export type VersionShare = z.infer<typeof VersionShareSchema>;

/**
 * The split test's counts: stored requests at the current config version, by assigned cohort,
 * in total and per minute. Failovers stay with the cohort they were assigned to, as the query
 * counts them: a failover is a canary request that stable replayed, not a stable visitor. Older
 * versions route by an older percent, so they would skew the test while a change propagates.
 */
export function splitCounts(rows: readonly TrafficRow[], configVersion: number): SplitCounts {
  const totals = { canary: 0, stable: 0 };
  const byMinute = new Map<number, { canary: number; stable: number }>();
  for (const row of rows) {
    if (row.configVersion !== String(configVersion)) continue;
    if (row.cohort !== 'canary' && row.cohort !== 'stable') continue;
    const stored = row.storedRequests ?? row.requests;
    totals[row.cohort] += stored;
    const minute = byMinute.get(row.minute) ?? { canary: 0, stable: 0 };
    minute[row.cohort] += stored;
    byMinute.set(row.minute, minute);
  }
  return { ...totals, minutes: [...byMinute.values()] };
}

/**
 * Each value's share of the window's requests, largest first.
 *
 * @example
 * versionShares(rows, (row) => row.workerVersion); // [{ version: 'a1b2…', requests: 9800, percent: 98 }, …]
 */
export function versionShares(rows: readonly TrafficRow[], key: (row: TrafficRow) => string): VersionShare[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const row of rows) {
    totals.set(key(row), (totals.get(key(row)) ?? 0) + row.requests);
    all += row.requests;
  }
  return [...totals]
    .map(([version, requests]) => ({ version, requests, percent: all > 0 ? (requests * 100) / all : 0 }))
    .sort((a, b) => b.requests - a.requests || a.version.localeCompare(b.version));
}

/** Per minute (epoch seconds, ascending): all requests and those at `version` or newer. */
export function minuteShares(
  rows: readonly TrafficRow[],
  version: number,
): { minute: number; requests: number; atVersion: number; percent: number }[] {
  const minutes = new Map<number, { requests: number; atVersion: number }>();
  for (const row of rows) {
    const entry = minutes.get(row.minute) ?? { requests: 0, atVersion: 0 };
    entry.requests += row.requests;
    const served = Number(row.configVersion);
    if (/^\d+$/.test(row.configVersion) && served >= version) entry.atVersion += row.requests;
    minutes.set(row.minute, entry);
  }
  return [...minutes]
    .sort(([a], [b]) => a - b)
    .map(([minute, entry]) => ({
      minute,
      ...entry,
      percent: entry.requests > 0 ? (entry.atVersion * 100) / entry.requests : 0,
    }));
}

/**
 * Tracks a step's propagation across runs. The bake starts in the first minute (ending after the
 * step began) in which at least `threshold` % of requests serve the step's version or a newer
 * one; until then the step is not baking, whatever the clock says. Once started it stays started.
 *
 * @example
 * const p = trackPropagation(previous, { version: 14, stepStartedAt }, rows, 99);
 * p.lastMinute?.percent; // 97.4
 */
export function trackPropagation(
  previous: Propagation | undefined,
  step: { version: number; stepStartedAt: string },
  rows: readonly TrafficRow[],
  threshold: number,
): Propagation {
  const same = previous !== undefined && previous.stepStartedAt === step.stepStartedAt;
  const version = same ? previous.version : step.version;
  const minutes = minuteShares(rows, version);
  const newest = minutes.at(-1);
  const lastMinute = newest
    ? { at: isoOfSeconds(newest.minute), percent: newest.percent, requests: newest.requests }
    : same
      ? previous.lastMinute
      : null;
  let bakeStartedAt = same ? previous.bakeStartedAt : null;
  if (bakeStartedAt === null) {
    const stepMs = Date.parse(step.stepStartedAt);
    const reached = minutes.find(
      (m) => m.minute * 1000 + 60_000 > stepMs && m.requests > 0 && m.percent >= threshold,
    );
    if (reached) bakeStartedAt = new Date(Math.max(reached.minute * 1000, stepMs)).toISOString();
  }
  return { version, stepStartedAt: step.stepStartedAt, lastMinute, bakeStartedAt, threshold };
}

/**
 * The propagation in words, e.g. `v14: 97.4 % of the last minute (bake not started)`.
 */
export function describePropagation(p: Propagation): string {
  const share = p.lastMinute
    ? `${p.lastMinute.percent.toFixed(1)} % of the last minute`
    : 'no traffic seen yet';
  const bake = p.bakeStartedAt ? `bake started ${p.bakeStartedAt}` : `bake waits for ${p.threshold} %`;
  return `v${p.version}: ${share} (${bake})`;
}

function isoOfSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

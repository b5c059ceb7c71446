import { RolloutConfigSchema, NO_KILL, type RolloutConfig } from '../../src/config/config-schema';
import {
  EMPTY_COHORT_STATS,
  type CohortStats,
  type GuardVerdictRecord,
} from '../../src/guard/analyze-canary';
import type { GuardDeps, StatsWindow } from '../../src/guard/guard-ports';
import type { GuardIncident } from '../../src/guard/handle-breach';
import type { TrafficRow } from '../../src/guard/traffic-split';
import { erfc } from '../../src/guard/sample-ratio';

/**
 * Simulated per-minute traffic for the guard, and the in-memory ports (the same shape the unit
 * tests' world uses) through which the real `runGuard()` reads it. Seeded: a scenario and a seed
 * always give the same bakes.
 */

/** One scenario: the canary's truth, stable's, and the traffic. */
export interface Scenario {
  name: string;
  /** Canary requests per minute (the canary gets `trueSharePercent` of all traffic). */
  canaryPerMinute: number;
  canaryErrorPercent: number;
  stableErrorPercent: number;
  /** The canary's true p95 in ms (lognormal latency); stable's is 1,200 ms. */
  canaryP95Ms: number;
  /** Canary email outcomes per minute, and the share delivered. */
  emailsPerMinute?: number;
  emailDeliveryPercent?: number;
  /** The share the canary really gets; the config says 10 %. */
  trueSharePercent?: number;
  /** What counts as caught: an abort, or a sample-ratio mismatch. */
  detect: 'abort' | 'srm' | 'none';
}

/** Requests per visitor: the split is per visitor, so requests come in clumps of one cohort. */
export const REQUESTS_PER_VISITOR = 5;
/** The lognormal's shape: p95 / median = e^(1.645 σ) ≈ 3.7. */
export const LATENCY_SIGMA = 0.8;
const CONFIGURED_PERCENT = 10;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const MINUTE = 60_000;

/** mulberry32: a small, fast, seeded generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A binomial draw: exact for small means (inversion), normal with continuity beyond. */
export function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean < 30 || n * (1 - p) < 30) {
    if (p > 0.5) return n - binomial(random, n, 1 - p);
    // Inversion through the pmf recursion.
    const q = 1 - p;
    let pmf = Math.pow(q, n);
    if (pmf === 0) return Math.round(mean + Math.sqrt(mean * q) * normal(random));
    let cdf = pmf;
    const u = random();
    let k = 0;
    while (u > cdf && k < n) {
      pmf *= ((n - k) / (k + 1)) * (p / q);
      k++;
      cdf += pmf;
    }
    return k;
  }
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(random))));
}

/** The share of requests slower than `limitMs` when latency is lognormal with this p95. */
export function slowShare(p95Ms: number, limitMs: number): number {
  const median = p95Ms / Math.exp(1.6449 * LATENCY_SIGMA);
  const z = Math.log(limitMs / median) / LATENCY_SIGMA;
  return 0.5 * erfc(z / Math.SQRT2);
}

interface Minute {
  canary: CohortStats;
  stable: CohortStats;
  canaryFailovers: number;
}

function cohortMinute(
  random: () => number,
  requests: number,
  errorShare: number,
  slow: number,
  p95Ms: number,
  emails: number,
  delivery: number,
): CohortStats {
  const errors = binomial(random, requests, errorShare);
  const slowCount = binomial(random, requests, slow);
  const delivered = binomial(random, emails, delivery);
  return {
    ...EMPTY_COHORT_STATS,
    requests,
    errors,
    p95Ms,
    emailDelivered: delivered,
    emailFailed: emails - delivered,
    storedRequests: requests,
    storedErrors: errors,
    storedSlow: slowCount,
    storedEmailDelivered: delivered,
    storedEmailFailed: emails - delivered,
  };
}

/** One minute of traffic: visitors split by their true share, several requests each. */
function simulateMinute(random: () => number, s: Scenario): Minute {
  const share = (s.trueSharePercent ?? CONFIGURED_PERCENT) / 100;
  const total = (s.canaryPerMinute * 100) / CONFIGURED_PERCENT;
  const visitors = Math.round(total / REQUESTS_PER_VISITOR);
  const canaryVisitors = binomial(random, visitors, share);
  const canaryRequests = canaryVisitors * REQUESTS_PER_VISITOR;
  const stableRequests = (visitors - canaryVisitors) * REQUESTS_PER_VISITOR;
  const emails = s.emailsPerMinute ?? 0;
  const canary = cohortMinute(
    random,
    canaryRequests,
    s.canaryErrorPercent / 100,
    slowShare(s.canaryP95Ms, 2000),
    s.canaryP95Ms,
    emails,
    (s.emailDeliveryPercent ?? 97) / 100,
  );
  const stable = cohortMinute(
    random,
    stableRequests,
    s.stableErrorPercent / 100,
    slowShare(1200, 2000),
    1200,
    emails * 9,
    0.97,
  );
  // Every canary error is a GET that failed over to stable: still counted as canary.
  return { canary, stable, canaryFailovers: canary.errors };
}

const SUMMED = Object.keys(EMPTY_COHORT_STATS).filter((key) => key !== 'p95Ms') as (keyof CohortStats)[];

// Running totals, so a window is one subtraction whatever its length.
function plus(a: CohortStats, b: CohortStats): CohortStats {
  const sum = { ...a };
  for (const key of SUMMED) sum[key] += b[key];
  sum.p95Ms = b.p95Ms;
  return sum;
}

function minus(a: CohortStats, b: CohortStats): CohortStats {
  const difference = { ...a };
  for (const key of SUMMED) difference[key] -= b[key];
  return difference;
}

/** What one bake of an hour gave: the minute of the first abort and of the first mismatch. */
export interface BakeResult {
  abortedAt: number | null;
  mismatchAt: number | null;
}

/**
 * One bake: a canary at 10 % on a step schedule (10 → 50, bake 120 min, so it never advances
 * within the hour), judged by the real `runGuard()` at the end of each of `minutes` minutes.
 */
export async function runBake(
  runGuard: (deps: GuardDeps) => Promise<unknown>,
  s: Scenario,
  seed: number,
  minutes = 60,
): Promise<BakeResult> {
  const random = rng(seed);
  let config: RolloutConfig = RolloutConfigSchema.parse({
    version: 3,
    rollout: {
      percent: CONFIGURED_PERCENT,
      salt: 's',
      state: 'ramping',
      steps: [10, 50],
      bakeMinutes: 120,
      stepStartedAt: new Date(T0).toISOString(),
    },
  });
  // Running totals per minute (index i: minutes before i), and the traffic rows, two a minute.
  const totals: { canary: CohortStats; stable: CohortStats }[] = [
    { canary: { ...EMPTY_COHORT_STATS }, stable: { ...EMPTY_COHORT_STATS } },
  ];
  const rows: TrafficRow[] = [];
  let now = T0;
  const store: { verdict?: GuardVerdictRecord; incident?: GuardIncident } = {};
  const move = (change: Partial<RolloutConfig['rollout']>) => {
    config = { ...config, version: config.version + 1, rollout: { ...config.rollout, ...change } };
    return { ok: true as const, version: config.version };
  };
  const read = async (window: StatsWindow) => {
    const current = totals.length - 1;
    const from =
      'lastMinutes' in window
        ? Math.max(0, current - window.lastMinutes)
        : Math.max(0, Math.round((window.sinceEpochSeconds * 1000 - T0) / MINUTE));
    const end = totals[current]!;
    const start = totals[from]!;
    const stats = {
      canary: minus(end.canary, start.canary),
      stable: minus(end.stable, start.stable),
      traffic: rows.slice(from * 2, current * 2),
    };
    return { ok: true as const, stats };
  };
  const quiet = () => undefined;
  const deps: GuardDeps = {
    readConfig: async () => ({ config, kill: NO_KILL, source: 'kv' }),
    stats: { read },
    commands: {
      abort: async () => move({ state: 'aborted', percent: 0 }),
      setPercent: async (percent) => move({ percent, stepStartedAt: new Date(now).toISOString() }),
      pause: async () => move({ state: 'paused' }),
    },
    state: {
      readVerdict: async () => store.verdict,
      writeVerdict: async (record) => void (store.verdict = record),
      readIncident: async () => store.incident,
      writeIncident: async (incident) => void (store.incident = incident),
    },
    probeStreaks: { read: async () => undefined, write: async () => undefined },
    notifier: { notify: async () => undefined },
    reporter: { captureException: quiet, captureMessage: quiet },
    logger: { info: quiet, warn: quiet, error: quiet },
    clock: { now: () => now },
  };
  const result: BakeResult = { abortedAt: null, mismatchAt: null };
  for (let minute = 1; minute <= minutes; minute++) {
    const m = simulateMinute(random, s);
    const last = totals[totals.length - 1]!;
    totals.push({ canary: plus(last.canary, m.canary), stable: plus(last.stable, m.stable) });
    const row = { minute: (T0 + (minute - 1) * MINUTE) / 1000, configVersion: '3', workerVersion: 'w1' };
    rows.push(
      { ...row, cohort: 'canary', requests: m.canary.requests, failovers: m.canaryFailovers },
      { ...row, cohort: 'stable', requests: m.stable.requests, failovers: 0 },
    );
    now = T0 + minute * MINUTE + 5_000;
    await runGuard(deps);
    const record = store.verdict;
    if (result.mismatchAt === null && record?.srm?.class === 'fail') {
      result.mismatchAt = minute;
      if (s.detect === 'srm') break; // caught: the rest of the hour changes nothing measured
    }
    if (config.rollout.state === 'aborted') {
      result.abortedAt = minute;
      break;
    }
  }
  return result;
}

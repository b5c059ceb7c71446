import { describe, expect, it } from 'vitest';
import { RolloutConfigSchema, NO_KILL, type RolloutConfig } from '../../src/config/config-schema';
import { type CohortStats, type GuardVerdictRecord } from '../../src/guard/analyze-canary';
import type { GuardCommandResult, GuardDeps, StatsWindow } from '../../src/guard/guard-ports';
import type { GuardMessage } from '../../src/guard/guard-notifier';
import type { GuardIncident } from '../../src/guard/handle-breach';
import type { WindowStatsResult } from '../../src/guard/analytics-sql';
import type { TrafficRow } from '../../src/guard/traffic-split';
import { runGuard } from '../../src/guard/run-guard';
import type { ConfigSource } from '../../src/ports';
import { unsampled } from '../support/fake-sql-api/control';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const MIN = 60_000;

// Enough requests for a pass to mean something (2685 to tell 1 % from 2 % errors).
const healthy: Partial<CohortStats> = { requests: 3000, errors: 6, p95Ms: 400 };
const failing: Partial<CohortStats> = { requests: 1000, errors: 80, p95Ms: 400 };
const stable: Partial<CohortStats> = { requests: 27000, errors: 27, p95Ms: 350 };

function stats(canary: Partial<CohortStats>): WindowStatsResult {
  return { ok: true, stats: { canary: unsampled(canary), stable: unsampled(stable) } };
}

/** This minute's traffic at the current config version, split exactly by the percent. */
function exactSplit(config: RolloutConfig, nowMs: number): TrafficRow[] {
  const canary = Math.round(10 * config.rollout.percent);
  return trafficAt(nowMs, String(config.version), canary, 1000 - canary);
}

/** The same split in each of the last five minutes: minutes enough to estimate the spread. */
function fiveMinutes(nowMs: number, version: string, canary: number, stable: number): TrafficRow[] {
  return [4, 3, 2, 1, 0].flatMap((ago) => trafficAt(nowMs - ago * MIN, version, canary, stable));
}

function trafficAt(nowMs: number, version: string, canary: number, stable: number): TrafficRow[] {
  const minute = Math.floor(nowMs / 60_000) * 60;
  const row = { minute, configVersion: version, workerVersion: 'w1', failovers: 0 };
  return [
    { ...row, cohort: 'canary', requests: canary },
    { ...row, cohort: 'stable', requests: stable },
  ];
}

/** In-memory stand-ins for the guard's ports; the commands move the config like executeCommand does. */
function world(
  rollout: Record<string, unknown> = {},
  options: { source?: ConfigSource; kill?: boolean } = {},
) {
  let config: RolloutConfig = RolloutConfigSchema.parse({
    version: 3,
    rollout: {
      percent: 10,
      salt: 's',
      state: 'ramping',
      stepStartedAt: new Date(T0).toISOString(),
      ...rollout,
    },
  });
  let now = T0;
  const recent: { result: WindowStatsResult } = { result: stats(healthy) };
  // The traffic split each read sees; by default this minute's requests, all at the current
  // config version and split exactly by its percent (fully propagated, no mismatch).
  const split: { rows?: (config: RolloutConfig, nowMs: number) => TrafficRow[] } = {};
  const bake: { result: WindowStatsResult } = { result: stats(healthy) };
  const windows: StatsWindow[] = [];
  const commands: { type: string; percent?: number; ifMatch?: number; reason: string }[] = [];
  const failNextCommands: GuardCommandResult[] = [];
  const store: { verdict?: GuardVerdictRecord; incident?: GuardIncident } = {};
  const notices: GuardMessage[] = [];
  const reports: string[] = [];
  const logs: { level: string; message: string }[] = [];
  const move = (rolloutChange: Partial<RolloutConfig['rollout']>): GuardCommandResult => {
    const failure = failNextCommands.shift();
    if (failure) return failure;
    config = {
      ...config,
      version: config.version + 1,
      rollout: { ...config.rollout, ...rolloutChange },
    };
    return { ok: true, version: config.version };
  };
  const log = (level: string) => (message: string) => logs.push({ level, message });
  // The first read of a run is the recent window; later ones (the whole step, the bake) see `bake`.
  let readsThisRun = 0;
  const deps: GuardDeps = {
    readConfig: async () => {
      readsThisRun = 0;
      return {
        config,
        kill: options.kill ? { ...NO_KILL, canary: true } : NO_KILL,
        source: options.source ?? 'kv',
      };
    },
    stats: {
      read: async (window) => {
        windows.push(window);
        const result = readsThisRun++ === 0 ? recent.result : bake.result;
        if (!result.ok) return result;
        const traffic = (split.rows ?? exactSplit)(config, now);
        return { ...result, stats: { ...result.stats, traffic }, sql: ['SELECT 1'] };
      },
    },
    commands: {
      abort: async (reason) => {
        commands.push({ type: 'abort', reason });
        return move({ state: 'aborted', percent: 0 });
      },
      setPercent: async (percent, { ifMatch, reason }) => {
        commands.push({ type: 'set-percent', percent, ifMatch, reason });
        return move({ percent, stepStartedAt: new Date(now).toISOString() });
      },
      pause: async ({ ifMatch, reason }) => {
        commands.push({ type: 'pause', ifMatch, reason });
        return move({ state: 'paused' });
      },
    },
    state: {
      readVerdict: async () => store.verdict,
      writeVerdict: async (record) => void (store.verdict = record),
      readIncident: async () => store.incident,
      writeIncident: async (incident) => void (store.incident = incident),
    },
    probeStreaks: { read: async () => undefined, write: async () => undefined },
    notifier: { notify: async (message) => void notices.push(message) },
    reporter: {
      captureException: (e) => void reports.push(String(e)),
      captureMessage: (m) => void reports.push(m),
    },
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    clock: { now: () => now },
  };
  return {
    deps,
    recent,
    bake,
    split,
    windows,
    commands,
    failNextCommands,
    store,
    notices,
    reports,
    logs,
    config: () => config,
    setConfig: (next: RolloutConfig) => void (config = next),
    at: (ms: number) => void (now = ms),
  };
}

describe('runGuard', () => {
  it('judges the last N minutes, but never rows from before the current step began', async () => {
    const early = world();
    early.at(T0 + 2 * 60_000);
    await runGuard(early.deps);
    expect(early.windows).toEqual([{ sinceEpochSeconds: T0 / 1000, slowerThanMs: 2000 }]);

    const settled = world();
    settled.at(T0 + 20 * 60_000);
    await runGuard(settled.deps);
    // The last 5 minutes, and the whole step: each judged, either may breach.
    expect(settled.windows).toEqual([
      { lastMinutes: 5, slowerThanMs: 2000 },
      { sinceEpochSeconds: T0 / 1000, slowerThanMs: 2000 },
    ]);
  });

  it('aborts a breaching canary, notifies once, reports once and records the incident', async () => {
    const w = world();
    w.recent.result = stats(failing);
    const result = await runGuard(w.deps);
    expect(result.ran && result.record).toMatchObject({
      status: 'breach',
      action: { type: 'aborted', version: 4 },
    });
    expect(w.commands).toEqual([
      { type: 'abort', reason: expect.stringMatching(/^guard: canary error rate 8\.00 % > 1\.00 %/) },
    ]);
    expect(w.config().rollout.state).toBe('aborted');
    expect(w.notices).toHaveLength(1);
    expect(w.notices[0]!.text).toContain('aborted the canary at 10 %');
    expect(w.reports).toEqual([expect.stringContaining('guard aborted the canary')]);
    expect(w.store.incident).toMatchObject({ configVersion: 3, abortedVersion: 4, percent: 10 });
    expect(w.store.verdict).toMatchObject({ status: 'breach', at: new Date(T0).toISOString() });
  });

  it('does nothing more once the canary is aborted', async () => {
    const w = world();
    w.recent.result = stats(failing);
    await runGuard(w.deps);
    const again = await runGuard(w.deps);
    expect(again).toEqual({ ran: false, why: 'no live canary (rollout aborted at 0 %)' });
    expect(w.commands).toHaveLength(1);
    expect(w.notices).toHaveLength(1);
    expect(w.windows).toHaveLength(1);
  });

  it('does not abort or notify twice when a lagging read still shows the config it aborted', async () => {
    const w = world();
    w.recent.result = stats(failing);
    const before = w.config();
    await runGuard(w.deps);
    w.setConfig(before); // KV in another location still serves version 3, ramping
    const again = await runGuard(w.deps);
    expect(again.ran && again.record.action).toEqual({
      type: 'none',
      why: 'incident already handled: aborted at config v4',
    });
    expect(w.commands).toHaveLength(1);
    expect(w.notices).toHaveLength(1);
    expect(w.reports).toHaveLength(1);
  });

  it('treats a breach on a config newer than the aborted one as a new incident', async () => {
    const w = world();
    w.recent.result = stats(failing);
    await runGuard(w.deps);
    w.setConfig({
      ...w.config(),
      version: 7,
      rollout: { ...w.config().rollout, state: 'ramping', percent: 5 },
    });
    await runGuard(w.deps);
    expect(w.commands.map((c) => c.type)).toEqual(['abort', 'abort']);
    expect(w.notices).toHaveLength(2);
    expect(w.store.incident).toMatchObject({ configVersion: 7, abortedVersion: 8 });
  });

  it('announces a failed abort once, then retries quietly every run', async () => {
    const w = world();
    w.recent.result = stats(failing);
    w.failNextCommands.push(
      { ok: false, status: 503, error: 'KV unavailable' },
      { ok: false, status: 503, error: 'KV unavailable' },
    );
    const first = await runGuard(w.deps);
    expect(first.ran && first.record.action).toEqual({ type: 'abort-failed', error: '503 KV unavailable' });
    await runGuard(w.deps);
    expect(w.notices.map((n) => n.text)).toEqual([
      expect.stringContaining('could not abort: 503 KV unavailable'),
    ]);
    expect(w.reports).toHaveLength(1);
    const third = await runGuard(w.deps);
    expect(third.ran && third.record.action).toEqual({ type: 'aborted', version: 4 });
    expect(w.commands).toHaveLength(3);
    expect(w.notices).toHaveLength(2);
  });

  it('aborts a paused rollout on a breach: pausing holds the ramp, not the protection', async () => {
    const w = world({ state: 'paused' });
    w.recent.result = stats(failing);
    const result = await runGuard(w.deps);
    expect(result.ran && result.record).toMatchObject({ status: 'breach', action: { type: 'aborted' } });
    expect(w.commands.map((c) => c.type)).toEqual(['abort']);
    expect(w.notices).toHaveLength(1);
  });

  it('takes no action on an inconclusive verdict', async () => {
    const w = world({ steps: [10, 50, 100] });
    w.at(T0 + 60 * MIN);
    w.recent.result = stats({ requests: 12 });
    w.bake.result = stats({ requests: 120 });
    const result = await runGuard(w.deps);
    expect(result.ran && result.record).toMatchObject({ status: 'inconclusive', action: { type: 'none' } });
    expect(w.commands).toEqual([]);
    expect(w.notices).toEqual([]);
  });

  it('records unreadable data as unknown, acts on nothing, and reports once per outage', async () => {
    const w = world();
    w.recent.result = { ok: false, error: 'SQL API answered 500: boom' };
    const first = await runGuard(w.deps);
    expect(first.ran && first.record).toMatchObject({
      status: 'unknown',
      reason: 'SQL API answered 500: boom',
    });
    await runGuard(w.deps);
    expect(w.reports).toEqual([
      'edge-rollout guard cannot read Analytics Engine: SQL API answered 500: boom',
    ]);
    expect(w.logs.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(w.commands).toEqual([]);
    w.recent.result = stats(healthy);
    await runGuard(w.deps);
    expect(w.logs.map((l) => l.message)).toContain('guard can read metrics again');
    w.recent.result = { ok: false, error: 'again' };
    await runGuard(w.deps);
    expect(w.reports).toHaveLength(2);
  });

  it.each([
    [{ source: 'safe-default' as const }, 'config comes from the safe-default'],
    [{ source: 'last-known-good' as const }, 'config comes from the last-known-good'],
    [{ kill: true }, 'the kill switch stops the canary'],
  ])('skips without querying when %o', async (options, why) => {
    const w = world({}, options);
    w.recent.result = stats(failing);
    const result = await runGuard(w.deps);
    expect(result.ran).toBe(false);
    if (!result.ran) expect(result.why).toContain(why);
    expect(w.windows).toEqual([]);
  });

  it('advances one step after the bake (from propagation) and three consecutive healthy runs', async () => {
    const w = world({ steps: [10, 50, 100], bakeMinutes: 15 });
    // T0: the step's version serves every request of this minute, so the bake starts now.
    const first = await runGuard(w.deps);
    expect(first.ran && first.record).toMatchObject({
      propagation: { version: 3, bakeStartedAt: new Date(T0).toISOString(), lastMinute: { percent: 100 } },
      streak: { healthy: 1, inconclusive: 0 },
    });
    w.at(T0 + 14 * MIN);
    const early = await runGuard(w.deps);
    expect(early.ran && early.record.action).toEqual({ type: 'none', why: 'baking: 1 min left at 10 %' });
    expect(w.commands).toEqual([]);

    w.at(T0 + 15 * MIN);
    const due = await runGuard(w.deps);
    expect(due.ran && due.record.action).toEqual({ type: 'advanced', from: 10, to: 50, version: 4 });
    expect(w.commands).toEqual([
      {
        type: 'set-percent',
        percent: 50,
        ifMatch: 3,
        reason: 'guard: healthy for 15 min at 10 % (3 consecutive healthy runs)',
      },
    ]);
    expect(w.windows).toContainEqual({ sinceEpochSeconds: T0 / 1000, slowerThanMs: 2000 });
    expect(w.notices.map((n) => n.text)).toEqual([
      expect.stringContaining('advanced the canary 10 % → 50 %'),
    ]);
    expect(due.ran && due.record.schedule).toEqual({
      current: 50,
      next: 100,
      bakeEndsAt: null,
      note: 'advanced 10 % → 50 %; the bake starts once v4 reaches 99 % of requests',
    });

    w.at(T0 + 16 * MIN);
    const next = await runGuard(w.deps);
    expect(w.commands).toHaveLength(1); // the new step bakes from its own propagation
    expect(next.ran && next.record).toMatchObject({
      streak: { healthy: 1, stepStartedAt: new Date(T0 + 15 * MIN).toISOString() },
      propagation: { version: 4, bakeStartedAt: new Date(T0 + 16 * MIN).toISOString() },
    });
  });

  it('waits for consecutive healthy runs after the bake: an inconclusive run starts the count over', async () => {
    const w = world({ steps: [10, 50], bakeMinutes: 15 });
    await runGuard(w.deps); // propagated at T0; healthy 1
    w.at(T0 + 15 * MIN);
    w.recent.result = stats({ requests: 12 });
    w.bake.result = stats({ requests: 400 });
    const thin = await runGuard(w.deps);
    expect(thin.ran && thin.record.streak).toMatchObject({ healthy: 0, inconclusive: 1 });
    expect(thin.ran && thin.record.status === 'inconclusive' && thin.record.reason).toMatch(
      /inconclusive \(underpowered\): needs 2285 more requests/,
    );
    w.recent.result = stats(healthy);
    w.bake.result = stats(healthy);
    w.at(T0 + 16 * MIN);
    const one = await runGuard(w.deps);
    expect(one.ran && one.record.action).toEqual({
      type: 'none',
      why: 'baked; healthy 1 of 3 consecutive runs',
    });
    w.at(T0 + 17 * MIN);
    await runGuard(w.deps);
    expect(w.commands).toEqual([]);
    w.at(T0 + 18 * MIN);
    const third = await runGuard(w.deps);
    expect(third.ran && third.record.action).toMatchObject({ type: 'advanced', to: 50 });
  });

  it('honours consecutiveHealthyRuns from the config', async () => {
    const w = world({ steps: [10, 50], bakeMinutes: 15 });
    w.setConfig({ ...w.config(), guard: { consecutiveHealthyRuns: 1 } });
    w.at(T0 + 16 * MIN);
    w.split.rows = (config, nowMs) => [
      ...trafficAt(T0, String(config.version), 100, 900),
      ...trafficAt(nowMs, String(config.version), 100, 900),
    ];
    const result = await runGuard(w.deps);
    expect(result.ran && result.record.action).toMatchObject({ type: 'advanced', to: 50 });
  });

  it('does not start the bake while the step config serves under 99 % of a minute', async () => {
    const w = world({ steps: [10, 50], bakeMinutes: 15 });
    // 97.4 % of the minute at v3, the rest still at v2.
    w.split.rows = (_config, nowMs) => [...trafficAt(nowMs, '3', 97, 877), ...trafficAt(nowMs, '2', 3, 23)];
    for (const minutes of [0, 15, 30, 45]) {
      w.at(T0 + minutes * MIN);
      await runGuard(w.deps);
    }
    expect(w.commands).toEqual([]);
    expect(w.store.verdict).toMatchObject({
      status: 'healthy',
      propagation: { version: 3, bakeStartedAt: null, lastMinute: { percent: 97.4, requests: 1000 } },
      schedule: { bakeEndsAt: null },
      action: {
        type: 'none',
        why: "bake not started: waiting for v3 to reach 99 % of a minute's requests (97.4 % of the last minute)",
      },
      configVersions: [
        { version: '3', requests: 974, percent: 97.4 },
        { version: '2', requests: 26, percent: 2.6 },
      ],
    });
    // Once a minute reaches 99 %, the bake starts there (not at stepStartedAt).
    w.split.rows = (_config, nowMs) => trafficAt(nowMs, '3', 100, 900);
    w.at(T0 + 46 * MIN);
    const started = await runGuard(w.deps);
    expect(started.ran && started.record.propagation?.bakeStartedAt).toBe(
      new Date(T0 + 46 * MIN).toISOString(),
    );
    expect(started.ran && started.record.schedule?.bakeEndsAt).toBe(new Date(T0 + 61 * MIN).toISOString());
  });

  it('pauses a scheduled rollout on a sample-ratio mismatch, notifies and reports it', async () => {
    const w = world({ steps: [10, 50], bakeMinutes: 15 });
    w.split.rows = (config, nowMs) => fiveMinutes(nowMs, String(config.version), 1500, 8500);
    // One look below the threshold is not yet a mismatch: the guard looks every minute.
    const first = await runGuard(w.deps);
    expect(first.ran && first.record).toMatchObject({
      status: 'healthy',
      srm: { class: 'pass', mismatches: 1, note: expect.stringContaining('look 1 of 2') },
    });
    expect(w.commands).toEqual([]);
    w.at(T0 + MIN);
    const result = await runGuard(w.deps);
    expect(result.ran && result.record).toMatchObject({
      status: 'inconclusive',
      reason: expect.stringContaining('sample ratio mismatch: 7500 canary of 50000 (15.00 %, expected 10 %)'),
      srm: { class: 'fail', canary: 7500, stable: 42500, expectedCanaryPercent: 10, mismatches: 2 },
      action: { type: 'paused', version: 4 },
    });
    expect(w.commands).toEqual([
      { type: 'pause', ifMatch: 3, reason: expect.stringMatching(/^guard: sample ratio mismatch: /) },
    ]);
    expect(w.config().rollout.state).toBe('paused');
    expect(w.notices.map((n) => n.text)).toEqual([expect.stringContaining('paused the rollout at 10 %')]);
    expect(JSON.stringify(w.notices[0]!.blocks)).toContain('srm');
    expect(w.reports).toEqual([expect.stringContaining('guard paused the rollout: sample ratio mismatch')]);
  });

  it('counts the split only at the current config version, failovers with their assigned cohort', async () => {
    const w = world({ steps: [10, 50] });
    w.split.rows = (_config, nowMs) =>
      [2, 1, 0].flatMap((ago) => [
        // The old version routed 50 %.
        ...trafficAt(nowMs - ago * MIN, '2', 500, 500),
        // 60 canary requests failed over to stable: still canary requests, as the query counts them.
        { ...trafficAt(nowMs - ago * MIN, '3', 100, 900)[0]!, failovers: 60 },
        trafficAt(nowMs - ago * MIN, '3', 100, 900)[1]!,
      ]);
    for (const minute of [0, 1]) {
      w.at(T0 + minute * MIN);
      const result = await runGuard(w.deps);
      expect(result.ran && result.record.srm).toMatchObject({ class: 'pass', canary: 300, stable: 2700 });
    }
    expect(w.commands).toEqual([]);
  });

  it('reports a mismatch once when there is no schedule to pause', async () => {
    const w = world();
    w.split.rows = (config, nowMs) => fiveMinutes(nowMs, String(config.version), 1500, 8500);
    for (const minute of [0, 1, 2]) {
      w.at(T0 + minute * MIN);
      await runGuard(w.deps);
    }
    expect(w.commands).toEqual([]);
    expect(w.notices.map((n) => n.text)).toEqual([expect.stringContaining('sample ratio mismatch at 10 %')]);
    expect(w.reports).toHaveLength(1);
    expect(w.store.verdict?.action).toEqual({
      type: 'none',
      why: expect.stringMatching(/no step schedule to pause$/),
    });
  });

  it('aborts on a mismatch with srmAction abort, and ignores one that is dry run', async () => {
    const skewed = (config: RolloutConfig, nowMs: number) =>
      fiveMinutes(nowMs, String(config.version), 1500, 8500);
    const abort = world({ steps: [10, 50] });
    abort.setConfig({ ...abort.config(), guard: { srmAction: 'abort' } });
    abort.split.rows = skewed;
    await runGuard(abort.deps);
    const aborted = await runGuard(abort.deps);
    expect(aborted.ran && aborted.record).toMatchObject({ status: 'breach', action: { type: 'aborted' } });

    const dry = world({ steps: [10, 50] });
    dry.setConfig({ ...dry.config(), guard: { dryRun: ['srm'] } });
    dry.split.rows = skewed;
    await runGuard(dry.deps);
    const reported = await runGuard(dry.deps);
    expect(reported.ran && reported.record.status).toBe('healthy');
    expect(reported.ran && reported.record.status === 'healthy' && reported.record.table).toContainEqual(
      expect.objectContaining({ metric: 'srm', class: 'fail', dryRun: true }),
    );
    expect(dry.commands).toEqual([]);
  });

  it('pauses after inconclusiveLimit inconclusive runs in a row, once', async () => {
    const w = world({ steps: [10, 50] });
    w.setConfig({ ...w.config(), guard: { inconclusiveLimit: 3 } });
    w.recent.result = stats({ requests: 12 });
    for (const minute of [1, 2]) {
      w.at(T0 + minute * MIN);
      await runGuard(w.deps);
    }
    expect(w.commands).toEqual([]);
    w.at(T0 + 3 * MIN);
    const third = await runGuard(w.deps);
    expect(third.ran && third.record).toMatchObject({
      status: 'inconclusive',
      action: {
        type: 'paused',
        why: expect.stringMatching(
          /^3 inconclusive verdicts in a row: .*inconclusive \(underpowered\): needs 2673 more requests/,
        ),
      },
      streak: { inconclusive: 0 },
    });
    expect(w.notices.map((n) => n.text)).toEqual([expect.stringContaining('paused the rollout')]);
    w.at(T0 + 10 * MIN);
    await runGuard(w.deps);
    expect(w.commands.map((c) => c.type)).toEqual(['pause']);
  });

  it.each([
    [
      'a sample-ratio mismatch',
      (w: ReturnType<typeof world>) => {
        w.split.rows = (config, nowMs) => fiveMinutes(nowMs, String(config.version), 1500, 8500);
        return runGuard(w.deps); // the first look below the threshold
      },
    ],
    [
      'too many inconclusive runs',
      (w: ReturnType<typeof world>) => {
        w.setConfig({ ...w.config(), guard: { inconclusiveLimit: 1 } });
        w.recent.result = stats({ requests: 12 });
      },
    ],
  ])('announces a pause that fails on %s once, then retries quietly every run', async (_, arrange) => {
    const w = world({ steps: [10, 50], bakeMinutes: 15 });
    await arrange(w);
    const refused: GuardCommandResult = { ok: false, status: 503, error: 'control plane unavailable' };
    w.failNextCommands.push(refused, refused, refused);
    for (const minute of [1, 2, 3]) {
      w.at(T0 + minute * MIN);
      const run = await runGuard(w.deps);
      expect(run.ran && run.record.action).toMatchObject({
        type: 'pause-failed',
        error: '503 control plane unavailable',
      });
    }
    expect(w.commands.map((c) => c.type)).toEqual(['pause', 'pause', 'pause']);
    expect(w.notices.map((n) => n.text)).toEqual([
      expect.stringContaining('wanted to pause the rollout at 10 % but could not: 503'),
    ]);
    expect(w.reports).toEqual([expect.stringContaining('guard could not pause the rollout')]);
    expect(w.logs.filter((l) => l.level === 'error')).toHaveLength(1);

    // The retry lands: that is news, and announced.
    w.at(T0 + 4 * MIN);
    const landed = await runGuard(w.deps);
    expect(landed.ran && landed.record.action).toMatchObject({ type: 'paused', version: 4 });
    expect(w.notices).toHaveLength(2);
  });

  it('stores the table, the SQL, the versions seen and the Worker version restriction with the verdict', async () => {
    const w = world();
    w.setConfig({ ...w.config(), guard: { workerVersion: 'w1', dryRun: ['p95'] } });
    const result = await runGuard(w.deps);
    expect(w.windows[0]).toEqual({ sinceEpochSeconds: T0 / 1000, workerVersion: 'w1', slowerThanMs: 2000 });
    expect(result.ran && result.record).toMatchObject({
      status: 'healthy',
      configVersion: 3,
      workerVersion: 'w1',
      workerVersions: [{ version: 'w1', requests: 1000, percent: 100 }],
      srm: { class: 'nodata', note: expect.stringContaining('too few minutes with traffic') },
      sql: ['SELECT 1'],
    });
    const record = result.ran ? result.record : undefined;
    const table = record && 'table' in record ? record.table : undefined;
    expect(table?.map((row) => [row.metric, row.class, row.dryRun])).toEqual([
      ['errorRate', 'pass', false],
      ['p95', 'pass', true],
      ['emailDelivery', 'nodata', false],
      ['uploadFailure', 'nodata', false],
      ['srm', 'nodata', false],
    ]);
  });

  it('aborts when the whole step breached though the last 5 minutes look fine', async () => {
    const w = world({ steps: [10, 50], bakeMinutes: 15 });
    w.setConfig({ ...w.config(), guard: { consecutiveHealthyRuns: 1 } });
    await runGuard(w.deps);
    w.at(T0 + 20 * MIN);
    // The recent window is healthy; the bake as a whole had 10 % of requests slower than 2 s.
    w.recent.result = stats(healthy);
    w.bake.result = stats({ requests: 3000, errors: 3, p95Ms: 2600 });
    const result = await runGuard(w.deps);
    expect(result.ran && result.record).toMatchObject({ status: 'breach' });
    expect(w.commands.map((c) => c.type)).toEqual(['abort']);
    expect(result.ran && result.record.status === 'breach' && result.record.reasons[0]!.message).toMatch(
      /^canary p95 400 ms > 2000 ms: 10\.00 % of requests slower than 2000 ms \(300 of 3000\), more than 5 % over since /,
    );
  });

  it('reports a refused advance without retrying it blindly', async () => {
    const w = world({ steps: [10, 50], bakeMinutes: 15 });
    w.setConfig({ ...w.config(), guard: { consecutiveHealthyRuns: 1 } });
    await runGuard(w.deps);
    w.at(T0 + 20 * MIN);
    w.failNextCommands.push({ ok: false, status: 412, error: 'version mismatch' });
    const result = await runGuard(w.deps);
    expect(result.ran && result.record.action).toEqual({
      type: 'advance-failed',
      to: 50,
      error: '412 version mismatch',
    });
    expect(w.notices).toEqual([]);
  });
});

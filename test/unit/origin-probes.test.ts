import { describe, expect, it } from 'vitest';
import { RolloutConfigSchema } from '../../src/config/config-schema';
import { toDataPoint } from '../../src/metrics/data-point-schema';
import { cohortStatsQuery } from '../../src/metrics/queries';
import {
  judgeProbes,
  probeMessage,
  probeMetric,
  resolveProbeSettings,
  type ProbeResult,
  type ProbeStreaks,
} from '../../src/guard/origin-probes';

const AT = '2026-11-25T03:00:00.000Z';
const fail = (cohort: 'stable' | 'canary'): ProbeResult => ({
  cohort,
  ok: false,
  status: 503,
  ms: 12,
  error: 'status 503 (expected 200)',
});
const pass = (cohort: 'stable' | 'canary'): ProbeResult => ({ cohort, ok: true, status: 200, ms: 8 });

/** Runs minutes of results through the judgement, carrying the streaks like the store does. */
function minutes(rounds: ProbeResult[][], options: { threshold?: number; canaryLive?: boolean } = {}) {
  let streaks: ProbeStreaks | undefined;
  return rounds.map((results) => {
    const judged = judgeProbes(streaks, results, {
      failureThreshold: options.threshold ?? 3,
      canaryLive: options.canaryLive ?? true,
      configVersion: 1,
      at: AT,
    });
    streaks = judged.streaks;
    return judged.actions.map((action) =>
      action.type === 'abort-canary' ? `abort:${action.announce}` : action.type,
    );
  });
}

describe('probe settings in the rollout config', () => {
  it('defaults to status 200, 5 s timeout, 3 failures in a row; absent means off', () => {
    expect(resolveProbeSettings({ path: '/health' })).toEqual({
      path: '/health',
      expectedStatus: 200,
      timeoutMs: 5000,
      failureThreshold: 3,
    });
    expect(resolveProbeSettings(undefined)).toBeUndefined();
  });

  it.each([
    [{ path: 'health' }],
    [{ path: '//evil.example/health' }],
    [{ path: 'https://evil.example/health' }],
    [{ path: '/health#x' }],
    [{ path: '/he alth' }],
    [{ path: '/health', failureThreshold: 0 }],
    [{ path: '/health', timeoutMs: 60_000 }],
    [{ path: '/health', expectedStatus: 42 }],
    [{ path: '/health', every: 5 }],
    [{}],
  ])('refuses %j', (probes) => {
    const parsed = RolloutConfigSchema.safeParse({
      version: 1,
      rollout: { percent: 0, salt: 's', state: 'idle' },
      probes,
    });
    expect(parsed.success).toBe(false);
  });

  it('accepts a full section', () => {
    const probes = { path: '/health?deep=1', expectedStatus: 204, timeoutMs: 2000, failureThreshold: 5 };
    const parsed = RolloutConfigSchema.parse({
      version: 1,
      rollout: { percent: 0, salt: 's', state: 'idle' },
      probes,
    });
    expect(parsed.probes).toEqual(probes);
  });
});

describe('judgeProbes: consecutive failures across minutes', () => {
  it('aborts a live canary on the third failure in a row, and again each minute until the abort lands', () => {
    expect(minutes([[fail('canary')], [fail('canary')], [fail('canary')], [fail('canary')]])).toEqual([
      [],
      [],
      ['abort:true'],
      // Still live (the abort failed): retried, not announced again.
      ['abort:false'],
    ]);
  });

  it('announces the abort of a rollout started anew: a newer config version resets the announcement', () => {
    let streaks: ProbeStreaks | undefined;
    const minute = (canaryLive: boolean, configVersion: number) => {
      const judged = judgeProbes(streaks, [fail('canary')], {
        failureThreshold: 3,
        canaryLive,
        configVersion,
        at: AT,
      });
      streaks = judged.streaks;
      return judged.actions.map((action) =>
        action.type === 'abort-canary' ? `abort:${action.announce}` : action.type,
      );
    };
    expect([minute(true, 5), minute(true, 5), minute(true, 5)]).toEqual([[], [], ['abort:true']]);
    // The abort landed (v6); the canary origin still fails.
    expect(minute(false, 6)).toEqual([]);
    // Ops ramp again (v7) while it still fails: a new abort, announced; its failed retries are not.
    expect(minute(true, 7)).toEqual(['abort:true']);
    expect(minute(true, 7)).toEqual(['abort:false']);
    // Ramped again within the minute after the abort (v9, never seen aborted): announced too.
    expect(minute(true, 9)).toEqual(['abort:true']);
  });

  it('a success in between starts the count again', () => {
    expect(
      minutes([[fail('canary')], [fail('canary')], [pass('canary')], [fail('canary')], [fail('canary')]]),
    ).toEqual([[], [], [], [], []]);
  });

  it('never aborts a canary that is not live, and honours the configured threshold', () => {
    expect(
      minutes([[fail('canary')], [fail('canary')], [fail('canary')]], { canaryLive: false }).flat(),
    ).toEqual([]);
    expect(minutes([[fail('canary')]], { threshold: 1 })).toEqual([['abort:true']]);
  });

  it('announces a failing stable origin once per outage and once when it is back, never aborting', () => {
    const stableDown = [[fail('stable'), pass('canary')]];
    expect(
      minutes([...stableDown, ...stableDown, ...stableDown, ...stableDown, [pass('stable'), pass('canary')]]),
    ).toEqual([[], [], ['stable-down'], [], ['stable-up']]);
  });
});

describe('a probe data point', () => {
  it('has its own route and method, and the guard stats queries leave it out', () => {
    const point = toDataPoint(probeMetric(fail('canary'), { configVersion: 7, workerVersion: 'v1' }));
    expect(point.indexes).toEqual(['canary']);
    expect(point.blobs.slice(3, 7)).toEqual(['PROBE', 'probe', '5xx', 'error']);
    expect(cohortStatsQuery({ dataset: 'edge_rollout', window: { lastMinutes: 5 } })).toContain(
      "blob4 NOT IN ('EVENT', 'PROBE', 'OVERRIDE')",
    );
  });

  it('makes webhook text safe for Slack mrkdwn', () => {
    const message = probeMessage(
      {
        type: 'stable-down',
        action: { type: 'stable-down', failures: 3, since: AT, lastError: 'a <b> & c' },
      },
      '/health?a=1&b=2',
      'production',
    );
    expect(message.text).toContain('/health?a=1&amp;b=2 (production)');
    expect(JSON.stringify(message.blocks)).toContain('a &lt;b&gt; &amp; c');
  });
});

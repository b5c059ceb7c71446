import { describe, expect, it } from 'vitest';
import { runQuery } from '../../scripts/demo/collector-sql.mjs';
import type { AuditEntry } from '../../src/admin/history-and-audit';
import { safeDefaultConfig, type RolloutConfig } from '../../src/config/config-schema';
import { toDataPoint, type RequestMetric } from '../../src/metrics/data-point-schema';
import { cohortMinutesQuery, trafficSplitQuery } from '../../src/metrics/queries';
import { shapeSeries, type CohortMinute, type VersionMinute } from '../../worker/control/admin/series-route';

// The cockpit's chart data: per-minute buckets over the whole window, gaps as null, the launch's
// thresholds, and the audit events on the time axis; and the demo collector answering the query.

const NOW_S = Date.UTC(2026, 0, 15, 12, 30, 20) / 1000;
const LAST_MINUTE = Math.floor(NOW_S / 60) * 60;

function config(overrides: Partial<RolloutConfig['rollout']> = {}, extra: Partial<RolloutConfig> = {}) {
  const base = safeDefaultConfig({ emailDelivery: true });
  return {
    ...base,
    ...extra,
    rollout: { ...base.rollout, state: 'ramping', percent: 10, ...overrides },
  } as RolloutConfig;
}

function row(minutesAgo: number, cohort: string, values: Partial<CohortMinute> = {}): CohortMinute {
  return {
    minute: LAST_MINUTE - minutesAgo * 60,
    cohort,
    requests: 100,
    errors: 0,
    p95Ms: 120,
    emailDelivered: 0,
    emailFailed: 0,
    uploadsOk: 0,
    uploadsFailed: 0,
    ...values,
  };
}

function audit(at: number, action: AuditEntry['action'], reason?: string): AuditEntry {
  return {
    id: `a${at}`,
    at: new Date(at * 1000).toISOString(),
    actor: action === 'abort' ? 'guard' : 'token',
    action,
    before: null,
    after: null,
    version: 3,
    ...(reason ? { reason } : {}),
  };
}

const shape = (cohortRows: CohortMinute[], extra: Partial<Parameters<typeof shapeSeries>[0]> = {}) =>
  shapeSeries({
    nowSeconds: NOW_S,
    minutes: 10,
    cohortRows,
    versionRows: [],
    config: config(),
    audit: [],
    ...extra,
  });

describe('the cockpit chart data (shapeSeries)', () => {
  it('has one bucket per minute of the window, oldest first, ending at the current minute', () => {
    const body = shape([]);
    expect(body.minutes).toHaveLength(10);
    expect(body.minutes[9]).toBe(LAST_MINUTE);
    expect(body.minutes[1]! - body.minutes[0]!).toBe(60);
  });

  it('computes rates per minute and leaves a minute without traffic as a gap (null), not a zero', () => {
    const body = shape([
      row(0, 'canary', { requests: 40, errors: 4 }),
      row(0, 'stable', { requests: 160, errors: 1 }),
      row(2, 'stable', { requests: 50 }),
    ]);
    const errors = body.panels.find((panel) => panel.id === 'errorRate')!;
    expect(errors.lines.canary![9]).toBe(10);
    expect(errors.lines.stable![9]).toBeCloseTo(0.625);
    expect(errors.lines.stable![7]).toBe(0);
    expect(errors.lines.canary![7]).toBeNull();
    expect(errors.lines.stable![8]).toBeNull();
    expect(errors.samples.canary![9]).toBe(40);
    const share = body.panels.find((panel) => panel.id === 'requestShare')!;
    expect(share.lines.canary![9]).toBe(20);
    expect(share.lines.stable![9]).toBe(80);
    expect(share.lines.stable![7]).toBe(100);
  });

  it('ignores rows outside the window and rows of no cohort', () => {
    const body = shape([row(10, 'canary'), row(0, '', { requests: 5 })]);
    expect(body.panels.find((panel) => panel.id === 'errorRate')!.empty).toBe('no traffic in the window');
  });

  it('draws the launch thresholds, the config’s own overrides first', () => {
    const body = shape([row(0, 'canary')], {
      config: config({ percent: 25 }, { thresholds: { maxErrorRatePercent: 2, maxP95Ms: 900 } }),
    });
    const threshold = (id: string) => body.panels.find((panel) => panel.id === id)!.threshold;
    expect(threshold('errorRate')).toMatchObject({ value: 2, failsWhen: 'above' });
    expect(threshold('p95')).toMatchObject({ value: 900, failsWhen: 'above' });
    expect(threshold('emailDelivery')).toMatchObject({ value: 90, failsWhen: 'below' });
    expect(threshold('uploadFailure')).toMatchObject({ value: 5, failsWhen: 'above' });
    expect(threshold('requestShare')).toMatchObject({ value: 25 });
    expect(threshold('versions')).toMatchObject({ value: 99, failsWhen: 'below' });
  });

  it('says why a panel is empty: no canary traffic, or no business outcomes', () => {
    const body = shape([row(0, 'stable')]);
    const panel = (id: string) => body.panels.find((p) => p.id === id)!;
    expect(panel('errorRate').empty).toBe('no canary traffic in the window');
    expect(panel('emailDelivery').empty).toBe('no email outcomes in the window');
    const withEmail = shape([row(0, 'canary', { emailDelivered: 8, emailFailed: 2 })]);
    expect(withEmail.panels.find((p) => p.id === 'emailDelivery')!.lines.canary![9]).toBe(80);
    expect(withEmail.panels.find((p) => p.id === 'emailDelivery')!.empty).toBeUndefined();
  });

  it('shares each minute’s requests out per config version', () => {
    const versionRows: VersionMinute[] = [
      { minute: LAST_MINUTE, configVersion: '3', requests: 30 },
      { minute: LAST_MINUTE, configVersion: '4', requests: 60 },
      { minute: LAST_MINUTE, configVersion: '4', requests: 10 },
    ];
    const versions = shape([], { versionRows }).panels.find((panel) => panel.id === 'versions')!;
    expect(Object.keys(versions.lines)).toEqual(['v3', 'v4']);
    expect(versions.lines.v3![9]).toBe(30);
    expect(versions.lines.v4![9]).toBe(70);
    expect(versions.lines.v4![8]).toBeNull();
  });

  it('marks the audit events of the window on their minute, oldest first, and drops older ones', () => {
    const marks = shape([], {
      audit: [
        audit(LAST_MINUTE + 5, 'abort', 'guard: error rate'),
        audit(LAST_MINUTE - 125, 'set-percent'),
        audit(LAST_MINUTE - 3600, 'undo'),
      ],
    }).marks;
    expect(marks.map((mark) => [mark.action, mark.index])).toEqual([
      ['set-percent', 6],
      ['abort', 9],
    ]);
    expect(marks[1]).toMatchObject({ actor: 'guard', reason: 'guard: error rate' });
  });
});

describe('the demo collector answers the cockpit’s queries', () => {
  function stored(metric: Partial<RequestMetric>, atSeconds: number) {
    const point = toDataPoint({
      cohort: 'stable',
      assignedCohort: 'stable',
      configVersion: 4,
      workerVersion: 'w1',
      method: 'GET',
      route: 'other',
      status: 200,
      outcome: 'ok',
      colo: 'local',
      country: 'XX',
      totalMs: 10,
      upstreamMs: 5,
      failover: false,
      ...metric,
    });
    const row: Record<string, unknown> = {
      timestamp: atSeconds,
      _sample_interval: 1,
      index1: point.indexes[0],
    };
    point.blobs.forEach((blob, i) => (row[`blob${i + 1}`] = blob));
    point.doubles.forEach((value, i) => (row[`double${i + 1}`] = value));
    return row;
  }

  it('buckets per minute and cohort with the guard’s weighted aggregates', () => {
    const rows = [
      stored(
        { cohort: 'canary', assignedCohort: 'canary', status: 502, outcome: 'error', totalMs: 40 },
        LAST_MINUTE + 1,
      ),
      stored({ cohort: 'canary', assignedCohort: 'canary' }, LAST_MINUTE + 2),
      stored({}, LAST_MINUTE - 60),
      stored({}, LAST_MINUTE - 7200),
    ];
    const answer = runQuery(cohortMinutesQuery({ dataset: 'edge_rollout', lastMinutes: 60 }), rows, {
      dataset: 'edge_rollout',
      nowSeconds: NOW_S,
    });
    expect(answer.data).toEqual([
      expect.objectContaining({ minute: LAST_MINUTE - 60, cohort: 'stable', requests: 1, errors: 0 }),
      expect.objectContaining({ minute: LAST_MINUTE, cohort: 'canary', requests: 2, errors: 1, p95Ms: 40 }),
    ]);
    const traffic = runQuery(
      trafficSplitQuery({ dataset: 'edge_rollout', window: { lastMinutes: 60 } }),
      rows,
      {
        dataset: 'edge_rollout',
        nowSeconds: NOW_S,
      },
    );
    expect(traffic.data.map((r) => [r.minute, r.configVersion, r.requests])).toEqual([
      [LAST_MINUTE - 60, '4', 1],
      [LAST_MINUTE, '4', 2],
    ]);
  });
});

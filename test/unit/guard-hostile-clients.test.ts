import { describe, expect, it } from 'vitest';
import { runQuery } from '../../scripts/demo/collector-sql.mjs';
import { NO_KILL, RolloutConfigSchema } from '../../src/config/config-schema';
import { readWindowStats, type AnalyticsSqlClient } from '../../src/guard/analytics-sql';
import type { GuardVerdictRecord } from '../../src/guard/analyze-canary';
import type { GuardDeps } from '../../src/guard/guard-ports';
import type { GuardIncident } from '../../src/guard/handle-breach';
import { runGuard } from '../../src/guard/run-guard';
import { toDataPoint, type RequestMetric } from '../../src/metrics/data-point-schema';
import type { ProxyOutcome } from '../../src/proxy/proxy-to-origin';
import { requestOutcome } from '../../worker/edge/request-metric';

// Issue 21, M1: anyone can pick a canary id (cookies are unsigned, OFREP tells the cohort of any
// key), so a visitor could make the guard abort a healthy canary by breaking its own uploads.
// Here the real guard judges five minutes of data points, through its own SQL, run by the demo's
// Analytics Engine stand-in, while HOSTILE_SOCKETS canary visitors each send
// `Content-Length: 100000`, 1 KB, and close.

const HOSTILE_SOCKETS = 20;
const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 30);
const DATASET = 'edge_rollout';

const config = RolloutConfigSchema.parse({
  version: 3,
  rollout: {
    percent: 50,
    salt: 's',
    state: 'ramping',
    stepStartedAt: new Date(NOW_MS - 30 * 60_000).toISOString(),
  },
  routes: [{ name: 'file_upload', method: 'POST', pattern: '/api/files' }],
});

function metric(cohort: 'stable' | 'canary', overrides: Partial<RequestMetric> = {}): RequestMetric {
  return {
    cohort,
    assignedCohort: cohort,
    configVersion: config.version,
    workerVersion: 'w1',
    method: 'GET',
    route: 'other',
    status: 200,
    outcome: 'ok',
    colo: 'local',
    country: 'XX',
    totalMs: 120,
    upstreamMs: 100,
    failover: false,
    ...overrides,
  };
}

/**
 * The normal traffic mix, per cohort and minute over the last five minutes: 600 page and API
 * GETs (latencies 100–399 ms, one 503 in 500 requests) and 20 successful uploads.
 */
function normalTraffic(): { metric: RequestMetric; atMs: number }[] {
  const points: { metric: RequestMetric; atMs: number }[] = [];
  for (let minute = 0; minute < 5; minute++) {
    const atMs = NOW_MS - minute * 60_000 - 10_000;
    for (const cohort of ['stable', 'canary'] as const) {
      for (let i = 0; i < 600; i++) {
        const failed = (minute * 600 + i) % 500 === 499;
        points.push({
          atMs,
          metric: metric(cohort, {
            totalMs: 100 + (i % 300),
            ...(failed ? { status: 503, outcome: 'error' } : {}),
          }),
        });
      }
      for (let i = 0; i < 20; i++)
        points.push({
          atMs,
          metric: metric(cohort, { method: 'POST', route: 'file_upload', routeSuccess: true, totalMs: 300 }),
        });
    }
  }
  return points;
}

/** What the edge records for one hostile upload socket (see test/integration/proxy-uploads.test.ts). */
function hostileUpload(recorded: 'today' | 'before issue 21'): RequestMetric {
  if (recorded === 'before issue 21')
    return metric('canary', {
      method: 'POST',
      route: 'file_upload',
      routeSuccess: false,
      status: 502,
      outcome: 'error',
    });
  const served: ProxyOutcome = {
    servedBy: 'canary',
    failover: false,
    upstreamMs: 5,
    clientMs: 5,
    failure: {
      cohort: 'canary',
      error: 'request body ended after 1024 of 100000 bytes',
      timedOut: false,
      upstream: '127.0.0.1',
      byClient: true,
    },
  };
  return metric('canary', {
    method: 'POST',
    route: 'file_upload',
    status: 400,
    outcome: requestOutcome(served, 400),
    totalMs: 0,
  });
}

/** The Analytics Engine rows for these data points, as the stand-in stores them. */
function rowsOf(points: { metric: RequestMetric; atMs: number }[]): Record<string, unknown>[] {
  return points.map(({ metric: m, atMs }) => {
    const point = toDataPoint(m);
    const row: Record<string, unknown> = {
      timestamp: Math.floor(atMs / 1000),
      _sample_interval: 1,
      index1: point.indexes[0],
    };
    for (let n = 1; n <= 20; n++) {
      row[`blob${n}`] = point.blobs[n - 1] ?? '';
      row[`double${n}`] = point.doubles[n - 1] ?? 0;
    }
    return row;
  });
}

/** One guard run over these rows; the commands it issued and its verdict. */
async function judge(rows: Record<string, unknown>[]) {
  const sql: AnalyticsSqlClient = {
    query: async (text) => {
      const answer = runQuery(text, rows, { dataset: DATASET, nowSeconds: Math.floor(NOW_MS / 1000) });
      return { ok: true, rows: answer.data };
    },
  };
  const commands: string[] = [];
  const store: { verdict?: GuardVerdictRecord; incident?: GuardIncident } = {};
  const ignore = () => undefined;
  const deps: GuardDeps = {
    readConfig: async () => ({ config, kill: NO_KILL, source: 'kv' }),
    stats: { read: (window) => readWindowStats(sql, DATASET, window) },
    commands: {
      abort: async (reason) => (commands.push(`abort: ${reason}`), { ok: true, version: 4 }),
      setPercent: async (percent) => (commands.push(`set-percent ${percent}`), { ok: true, version: 4 }),
      pause: async () => (commands.push('pause'), { ok: true, version: 4 }),
    },
    state: {
      readVerdict: async () => store.verdict,
      writeVerdict: async (record) => void (store.verdict = record),
      readIncident: async () => store.incident,
      writeIncident: async (incident) => void (store.incident = incident),
    },
    probeStreaks: { read: async () => undefined, write: async () => undefined },
    notifier: { notify: async () => undefined },
    reporter: { captureException: ignore, captureMessage: ignore },
    logger: { info: ignore, warn: ignore, error: ignore },
    clock: { now: () => NOW_MS },
  };
  const result = await runGuard(deps);
  if (!result.ran) throw new Error(`the guard did not run: ${result.why}`);
  return { commands, record: result.record };
}

describe('the guard under hostile clients', () => {
  it(`keeps a healthy 50 % canary live while ${HOSTILE_SOCKETS} canary sockets break their uploads`, async () => {
    const hostile = Array.from({ length: HOSTILE_SOCKETS }, (_, i) => ({
      metric: hostileUpload('today'),
      atMs: NOW_MS - (i % 5) * 60_000 - 5_000,
    }));
    const { commands, record } = await judge(rowsOf([...normalTraffic(), ...hostile]));
    expect(commands).toEqual([]);
    expect(record.status).toBe('healthy');
  });

  it('counts the hostile sockets in no request, error, latency or upload figure of the canary', async () => {
    const hostile = Array.from({ length: HOSTILE_SOCKETS }, () => ({
      metric: { ...hostileUpload('today'), totalMs: 60_000 },
      atMs: NOW_MS - 5_000,
    }));
    const sqlOver = (rows: Record<string, unknown>[]): AnalyticsSqlClient => ({
      query: async (text) => ({
        ok: true,
        rows: runQuery(text, rows, { dataset: DATASET, nowSeconds: Math.floor(NOW_MS / 1000) }).data,
      }),
    });
    const window = { lastMinutes: 5, withRoutes: true, slowerThanMs: 2000 };
    const clean = await readWindowStats(sqlOver(rowsOf(normalTraffic())), DATASET, window);
    const attacked = await readWindowStats(
      sqlOver(rowsOf([...normalTraffic(), ...hostile])),
      DATASET,
      window,
    );
    expect(clean.ok && attacked.ok).toBe(true);
    if (!clean.ok || !attacked.ok) return;
    expect(attacked.stats.canary).toEqual(clean.stats.canary);
    expect(attacked.stats.routes).toEqual(clean.stats.routes);
    expect(attacked.stats.canary).toMatchObject({ requests: 3100, errors: 6, uploadsFailed: 0 });
  });

  it('would have aborted it on the same sockets recorded as the cohort’s upload errors (the attack of issue 21)', async () => {
    const hostile = Array.from({ length: HOSTILE_SOCKETS }, (_, i) => ({
      metric: hostileUpload('before issue 21'),
      atMs: NOW_MS - (i % 5) * 60_000 - 5_000,
    }));
    const { commands, record } = await judge(rowsOf([...normalTraffic(), ...hostile]));
    expect(record.status).toBe('breach');
    expect(commands).toEqual([expect.stringMatching(/^abort: .*upload/i)]);
  });

  it('judges the same canary healthy without any hostile socket (the mix itself passes)', async () => {
    const { commands, record } = await judge(rowsOf(normalTraffic()));
    expect(commands).toEqual([]);
    expect(record.status).toBe('healthy');
  });
});

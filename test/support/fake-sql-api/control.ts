import { type CohortStats, EMPTY_COHORT_STATS } from '../../../src/guard/analyze-canary';
import type { FakeSqlRequest, FakeSqlRule } from './server';

/** A fresh 32-hex-digit account id, so each test scripts its own corner of the fake. */
export function newAccountId(): string {
  return crypto.randomUUID().replace(/-/g, '');
}

/**
 * Drives the fake SQL API from a test (Node or workerd: plain fetch over loopback).
 *
 * @example
 * const api = fakeSqlApi(`http://127.0.0.1:${port}`);
 * await api.script(account, token, [{ answer: { json: cohortStatsAnswer({ canary: { requests: 500 } }) } }]);
 */
export function fakeSqlApi(baseUrl: string) {
  return {
    baseUrl,
    async script(account: string, token: string, rules: FakeSqlRule[]): Promise<void> {
      const response = await fetch(`${baseUrl}/__control/accounts/${account}`, {
        method: 'PUT',
        body: JSON.stringify({ token, rules }),
      });
      if (response.status !== 204) throw new Error(`fake SQL API refused the script: ${response.status}`);
    },
    async requests(account: string): Promise<FakeSqlRequest[]> {
      const response = await fetch(`${baseUrl}/__control/accounts/${account}/requests`);
      return (await response.json()) as FakeSqlRequest[];
    },
  };
}

/**
 * Reads and steers the loopback webhook receiver.
 *
 * @example
 * const hooks = webhookReceiver(`http://127.0.0.1:${port}`);
 * expect(await hooks.calls(id)).toHaveLength(1);
 */
export function webhookReceiver(baseUrl: string) {
  return {
    url: (id: string) => `${baseUrl}/hooks/${id}`,
    async calls(id: string): Promise<{ text: string; blocks?: unknown[] }[]> {
      return (await (await fetch(`${baseUrl}/__control/hooks/${id}`)).json()) as {
        text: string;
        blocks?: unknown[];
      }[];
    },
    async answerWith(id: string, status: number): Promise<void> {
      await fetch(`${baseUrl}/__control/hooks/${id}`, { method: 'PUT', body: JSON.stringify({ status }) });
    },
  };
}

type CohortInput = Partial<CohortStats> | undefined;

/**
 * A cohort's stats as unsampled data gives them: each stored row is one request or outcome, so
 * the stored counts equal the weighted ones unless given; a p95 above 2000 ms stores 10 % of the
 * requests as slower than that (the p95 row's test judges that share).
 *
 * @example
 * unsampled({ requests: 1000, errors: 80 }).storedErrors; // 80
 */
export function unsampled(given: CohortInput = {}): CohortStats {
  const s = { ...EMPTY_COHORT_STATS, ...given };
  return {
    ...s,
    storedRequests: given.storedRequests ?? s.requests,
    storedErrors: given.storedErrors ?? s.errors,
    storedSlow: given.storedSlow ?? (s.p95Ms > 2000 ? Math.ceil(s.requests * 0.1) : 0),
    storedEmailDelivered: given.storedEmailDelivered ?? s.emailDelivered,
    storedEmailFailed: given.storedEmailFailed ?? s.emailFailed,
    storedUploadsOk: given.storedUploadsOk ?? s.uploadsOk,
    storedUploadsFailed: given.storedUploadsFailed ?? s.uploadsFailed,
  };
}

/**
 * The SQL API's `FORMAT JSON` answer to the cohort-stats query, as Analytics Engine would send
 * it: UInt64 sums as strings (ClickHouse quotes 64-bit integers), Float64 as numbers, one row
 * per cohort that saw traffic. Stored counts default to the weighted ones (no sampling), and a
 * p95 above 2000 ms to 10 % of requests stored as slower than that.
 *
 * @example
 * cohortStatsAnswer({ canary: { requests: 500, errors: 30, p95Ms: 300 }, stable: { requests: 4500 } });
 */
export function cohortStatsAnswer(stats: { canary?: CohortInput; stable?: CohortInput }) {
  const rows = (['canary', 'stable'] as const)
    .filter((cohort) => stats[cohort] !== undefined)
    .map((cohort) => {
      const s = unsampled(stats[cohort]);
      return {
        cohort,
        requests: String(s.requests),
        errors: String(s.errors),
        p95Ms: s.p95Ms,
        emailDelivered: s.emailDelivered,
        emailFailed: s.emailFailed,
        uploadsOk: s.uploadsOk,
        uploadsFailed: s.uploadsFailed,
        storedRequests: String(s.storedRequests),
        storedErrors: String(s.storedErrors),
        storedSlow: String(s.storedSlow),
        storedEmailDelivered: s.storedEmailDelivered,
        storedEmailFailed: s.storedEmailFailed,
        storedUploadsOk: s.storedUploadsOk,
        storedUploadsFailed: s.storedUploadsFailed,
      };
    });
  return {
    meta: [
      { name: 'cohort', type: 'String' },
      { name: 'requests', type: 'UInt64' },
      { name: 'errors', type: 'UInt64' },
      { name: 'p95Ms', type: 'Float64' },
      { name: 'emailDelivered', type: 'Float64' },
      { name: 'emailFailed', type: 'Float64' },
      { name: 'uploadsOk', type: 'Float64' },
      { name: 'uploadsFailed', type: 'Float64' },
      { name: 'storedRequests', type: 'UInt64' },
      { name: 'storedErrors', type: 'UInt64' },
      { name: 'storedSlow', type: 'UInt64' },
      { name: 'storedEmailDelivered', type: 'Float64' },
      { name: 'storedEmailFailed', type: 'Float64' },
      { name: 'storedUploadsOk', type: 'Float64' },
      { name: 'storedUploadsFailed', type: 'Float64' },
    ],
    data: rows,
    rows: rows.length,
  };
}

/** One minute × config version × Worker version × cohort of the traffic-split query. */
export interface TrafficInput {
  /** The minute's start, epoch seconds. */
  minute: number;
  configVersion: number | string;
  workerVersion?: string;
  cohort: 'canary' | 'stable';
  requests: number;
  failovers?: number;
  /** Stored rows; the weighted `requests` when absent (no sampling). */
  storedRequests?: number;
}

/**
 * The SQL API's answer to the traffic-split query: `minute` a UInt32 (a number in ClickHouse's
 * JSON), the sums UInt64 (strings), the blobs strings.
 *
 * @example
 * trafficSplitAnswer([{ minute: 1764072000, configVersion: 5, cohort: 'canary', requests: 100 }]);
 */
export function trafficSplitAnswer(rows: TrafficInput[]) {
  const data = rows.map((row) => ({
    minute: row.minute,
    configVersion: String(row.configVersion),
    workerVersion: row.workerVersion ?? 'dev',
    cohort: row.cohort,
    requests: String(row.requests),
    failovers: String(row.failovers ?? 0),
    storedRequests: String(row.storedRequests ?? row.requests),
  }));
  return {
    meta: [
      { name: 'minute', type: 'UInt32' },
      { name: 'configVersion', type: 'String' },
      { name: 'workerVersion', type: 'String' },
      { name: 'cohort', type: 'String' },
      { name: 'requests', type: 'UInt64' },
      { name: 'failovers', type: 'UInt64' },
      { name: 'storedRequests', type: 'UInt64' },
    ],
    data,
    rows: data.length,
  };
}

/**
 * Traffic split exactly by `percent` in each given minute (epoch ms), all at one config version:
 * what a fully propagated, well-split canary looks like.
 */
export function evenTraffic(options: {
  minutesMs: number[];
  configVersion: number;
  percent: number;
  perMinute?: number;
  workerVersion?: string;
}): TrafficInput[] {
  const total = options.perMinute ?? 1000;
  const canary = Math.round((total * options.percent) / 100);
  return options.minutesMs.flatMap((ms) => {
    const minute = Math.floor(ms / 60_000) * 60;
    const base = { minute, configVersion: options.configVersion, workerVersion: options.workerVersion };
    return [
      { ...base, cohort: 'canary' as const, requests: canary },
      { ...base, cohort: 'stable' as const, requests: total - canary },
    ];
  });
}

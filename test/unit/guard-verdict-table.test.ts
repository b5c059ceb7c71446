import { describe, expect, it } from 'vitest';
import { analyzeCanary, EMPTY_COHORT_STATS, type CohortStats } from '../../src/guard/analyze-canary';
import { resolveGuardPolicy, resolveThresholds } from '../../src/guard/guard-settings';
import { sampleRatioTest } from '../../src/guard/traffic-split';
import {
  formatVerdictTable,
  overallVerdict,
  verdictTable,
  type TableInput,
} from '../../src/guard/verdict-table';

const t = resolveThresholds(undefined);
const policy = resolveGuardPolicy(undefined);

function input(
  canary: Partial<CohortStats>,
  stable: Partial<CohortStats> = {},
  extra: Partial<TableInput> = {},
): TableInput {
  return {
    canary: { ...EMPTY_COHORT_STATS, requests: 1000, p95Ms: 300, ...canary },
    stable: { ...EMPTY_COHORT_STATS, requests: 9000, errors: 9, p95Ms: 280, ...stable },
    ...extra,
  };
}

function row(rows: ReturnType<typeof verdictTable>, metric: string) {
  const found = rows.find((r) => r.metric === metric);
  if (!found) throw new Error(`no row ${metric}`);
  return found;
}

describe('verdictTable: one row per metric with a class', () => {
  it.each([
    // metric, canary stats, class, canary value
    ['errorRate', { errors: 5 }, 'pass', 0.5],
    ['errorRate', { errors: 30 }, 'fail', 3],
    ['p95', { p95Ms: 2000 }, 'pass', 2000],
    ['p95', { p95Ms: 2001 }, 'fail', 2001],
    ['emailDelivery', { emailDelivered: 9, emailFailed: 0 }, 'nodata', null],
    ['emailDelivery', { emailDelivered: 9, emailFailed: 1 }, 'pass', 90],
    ['emailDelivery', { emailDelivered: 89, emailFailed: 11 }, 'fail', 89],
    ['uploadFailure', { uploadsOk: 5, uploadsFailed: 4 }, 'nodata', null],
    ['uploadFailure', { uploadsOk: 95, uploadsFailed: 5 }, 'pass', 5],
    ['uploadFailure', { uploadsOk: 94, uploadsFailed: 6 }, 'fail', 6],
  ] as const)('%s with %o is %s', (metric, canary, cls, value) => {
    const r = row(verdictTable(input(canary), t, policy, 'last 5 min'), metric);
    expect(r.class).toBe(cls);
    if (value === null) expect(r.canary).toBeNull();
    else expect(r.canary).toBeCloseTo(value);
  });

  it('shows stable beside the canary and keeps the error-rate margin: a shared bad day passes', () => {
    const rows = verdictTable(input({ errors: 30 }, { errors: 252 }), t, policy, 'w');
    expect(row(rows, 'errorRate')).toMatchObject({
      class: 'pass',
      stable: expect.closeTo(2.8),
      threshold: 1,
      samples: 1000,
    });
    expect(row(rows, 'p95')).toMatchObject({ stable: 280, threshold: 2000, failsWhen: 'above', unit: 'ms' });
  });

  it('makes every row nodata below minRequests (the split test keeps its own minimum)', () => {
    const srm = sampleRatioTest({ canary: 0, stable: 1000 }, 10, 0.001);
    const rows = verdictTable(input({ requests: 49, errors: 49, p95Ms: 9000 }, {}, { srm }), t, policy, 'w');
    expect(rows.map((r) => [r.metric, r.class])).toEqual([
      ['errorRate', 'nodata'],
      ['p95', 'nodata'],
      ['emailDelivery', 'nodata'],
      ['uploadFailure', 'nodata'],
      ['srm', 'fail'],
    ]);
    expect(row(rows, 'errorRate').message).toBe(
      'too little canary traffic: 49 requests in the window, 50 needed',
    );
  });

  it('judges each business route that has a threshold, by success percent against stable', () => {
    const routes = {
      invoice_created: { canary: { succeeded: 95, failed: 5 }, stable: { succeeded: 990, failed: 10 } },
      template_used: { canary: { succeeded: 3, failed: 0 }, stable: { succeeded: 50, failed: 0 } },
    };
    const withRoutes = resolveGuardPolicy({
      routes: { invoice_created: 98, template_used: 99, email_sent: 90 },
    });
    const rows = verdictTable(input({}, {}, { routes }), t, withRoutes, 'w');
    expect(row(rows, 'route:invoice_created')).toMatchObject({
      class: 'fail',
      canary: 95,
      stable: 99,
      threshold: 98,
    });
    expect(row(rows, 'route:template_used')).toMatchObject({ class: 'nodata', samples: 3 });
    expect(row(rows, 'route:email_sent')).toMatchObject({ class: 'nodata', samples: 0, canary: null });
  });

  it('marks dry-run rows, which never decide the verdict', () => {
    const dry = resolveGuardPolicy({ dryRun: ['p95'] });
    const rows = verdictTable(input({ p95Ms: 5000 }), t, dry, 'w');
    expect(row(rows, 'p95')).toMatchObject({ class: 'fail', dryRun: true });
    expect(overallVerdict(rows, dry)).toEqual({ status: 'healthy' });
    expect(overallVerdict(verdictTable(input({ p95Ms: 5000 }), t, policy, 'w'), policy).status).toBe(
      'breach',
    );
  });
});

describe('overallVerdict', () => {
  it('is a breach on any acting failure, naming each failing row', () => {
    const rows = verdictTable(input({ errors: 30, p95Ms: 2500 }), t, policy, 'w');
    const verdict = overallVerdict(rows, policy);
    expect(verdict.status === 'breach' && verdict.failing.map((r) => r.metric)).toEqual(['errorRate', 'p95']);
  });

  it('is inconclusive on too little traffic, and on a sample-ratio mismatch unless it aborts', () => {
    expect(overallVerdict(verdictTable(input({ requests: 10 }), t, policy, 'w'), policy)).toMatchObject({
      status: 'inconclusive',
    });
    const srm = sampleRatioTest({ canary: 1500, stable: 8500 }, 10, 0.001);
    const rows = verdictTable(input({}, {}, { srm }), t, policy, 'w');
    expect(overallVerdict(rows, policy)).toEqual({
      status: 'inconclusive',
      reason: expect.stringMatching(/^sample ratio mismatch: 1500 canary of 10000/),
    });
    const aborting = resolveGuardPolicy({ srmAction: 'abort' });
    expect(overallVerdict(verdictTable(input({}, {}, { srm }), t, aborting, 'w'), aborting).status).toBe(
      'breach',
    );
  });

  it('is healthy when every acting row passes or has no data', () => {
    expect(overallVerdict(verdictTable(input({}), t, policy, 'w'), policy)).toEqual({ status: 'healthy' });
  });

  it('comes with the verdict from analyzeCanary, which keeps the table', () => {
    const stats = {
      canary: { ...EMPTY_COHORT_STATS, requests: 1000, errors: 80 },
      stable: { ...EMPTY_COHORT_STATS, requests: 9000 },
    };
    const verdict = analyzeCanary(stats, t, 'last 5 min');
    expect(verdict.status).toBe('breach');
    expect(verdict.table?.map((r) => r.metric)).toEqual([
      'errorRate',
      'p95',
      'emailDelivery',
      'uploadFailure',
    ]);
    expect(verdict.status === 'breach' && verdict.reasons[0]).toMatchObject({
      metric: 'errorRate',
      value: 8,
      threshold: 1,
    });
  });
});

describe('formatVerdictTable', () => {
  it('prints aligned columns with a dash for missing values and marks dry runs', () => {
    const dry = resolveGuardPolicy({ dryRun: ['uploadFailure'] });
    const srm = sampleRatioTest({ canary: 100, stable: 900 }, 10, 0.001);
    const lines = formatVerdictTable(verdictTable(input({ errors: 2 }, {}, { srm }), t, dry, 'w'));
    expect(lines).toEqual([
      'metric         canary   stable   fails when  samples  class',
      'errorRate      0.20 %   0.10 %   > 1 %       1000     pass',
      'p95            300 ms   280 ms   > 2000 ms   1000     pass',
      'emailDelivery  —        —        < 90 %      0        nodata',
      'uploadFailure  —        —        > 5 %       0        nodata (dry run)',
      'srm            10.00 %  10.00 %  < p 0.001   1000     pass',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { analyzeCanary, type CohortStats } from '../../src/guard/analyze-canary';
import { resolveGuardPolicy, resolveThresholds } from '../../src/guard/guard-settings';
import { sampleRatioTest } from '../../src/guard/sample-ratio';
import {
  formatVerdictTable,
  overallVerdict,
  verdictTable,
  type TableInput,
} from '../../src/guard/verdict-table';
import { unsampled } from '../support/fake-sql-api/control';

const t = resolveThresholds(undefined);
const policy = resolveGuardPolicy(undefined);

// 3000 canary requests: above the 2685 the error test needs to tell 1 % from 2 %.
function input(
  canary: Partial<CohortStats>,
  stable: Partial<CohortStats> = {},
  extra: Partial<TableInput> = {},
): TableInput {
  return {
    canary: unsampled({ requests: 3000, p95Ms: 300, ...canary }),
    stable: unsampled({ requests: 27000, errors: 27, p95Ms: 280, ...stable }),
    ...extra,
  };
}

/** A split test on its second look, over ten steady minutes. */
function srmOf(canary: number, stable: number) {
  const minutes = Array.from({ length: 10 }, () => ({ canary: canary / 10, stable: stable / 10 }));
  return sampleRatioTest({ canary, stable, minutes }, 10, 0.001, 1);
}

function row(rows: ReturnType<typeof verdictTable>, metric: string) {
  const found = rows.find((r) => r.metric === metric);
  if (!found) throw new Error(`no row ${metric}`);
  return found;
}

describe('verdictTable: one row per metric, judged by an exact test', () => {
  it.each([
    // metric, canary stats, class, canary value
    ['errorRate', { errors: 15 }, 'pass', 0.5],
    // 1.2 % on 3000 requests: above 1 % as a point estimate, but p 0.16 that 1 % gives as many.
    ['errorRate', { errors: 36 }, 'pass', 1.2],
    ['errorRate', { errors: 60 }, 'fail', 2],
    ['p95', { storedSlow: 150 }, 'pass', 300],
    ['p95', { storedSlow: 240 }, 'fail', 300],
    ['emailDelivery', {}, 'nodata', null],
    ['emailDelivery', { emailDelivered: 89, emailFailed: 11 }, 'underpowered', 89],
    ['emailDelivery', { emailDelivered: 60, emailFailed: 40 }, 'fail', 60],
    ['emailDelivery', { emailDelivered: 950, emailFailed: 50 }, 'pass', 95],
    ['uploadFailure', { uploadsOk: 94, uploadsFailed: 6 }, 'underpowered', 6],
    ['uploadFailure', { uploadsOk: 80, uploadsFailed: 20 }, 'fail', 20],
    ['uploadFailure', { uploadsOk: 570, uploadsFailed: 30 }, 'pass', 5],
  ] as const)('%s with %o is %s', (metric, canary, cls, value) => {
    const r = row(verdictTable(input(canary), t, policy, 'last 5 min'), metric);
    expect(r.class).toBe(cls);
    if (value === null) expect(r.canary).toBeNull();
    else expect(r.canary).toBeCloseTo(value);
  });

  it('pins the exact test: 2 errors in 50 is no breach of 1 %, 8 in 100 is', () => {
    const few = row(verdictTable(input({ requests: 50, errors: 2 }), t, policy, 'w'), 'errorRate');
    expect(few).toMatchObject({ class: 'underpowered', needs: 2635, pValue: expect.closeTo(0.0894, 4) });
    expect(few.message).toBe(
      'canary error rate 4.00 %, not shown above 1.00 %: 2 errors in 50 requests, p 0.089 ≥ 0.001; inconclusive (underpowered): needs 2635 more requests (2685 to catch twice the allowed share)',
    );
    const eight = row(
      verdictTable(input({ requests: 100, errors: 8 }), t, policy, 'last 5 min'),
      'errorRate',
    );
    expect(eight).toMatchObject({ class: 'fail', pValue: expect.closeTo(8.22e-6, 8) });
    expect(eight.message).toBe(
      'canary error rate 8.00 % > 1.00 % (max of 1 % and stable + 0.5 points): 8 errors in 100 requests over last 5 min, p 8.2e-6 < 0.001',
    );
  });

  it('judges the whole step too: a breach too small for 5 minutes shows over the step', () => {
    const sinceStep = { ...input({ requests: 30000, errors: 420 }), window: 'since the step' };
    const rows = verdictTable({ ...input({ errors: 40 }), sinceStep }, t, policy, 'last 5 min');
    expect(row(rows, 'errorRate')).toMatchObject({ class: 'fail', canary: expect.closeTo(1.33) });
    expect(row(rows, 'errorRate').message).toMatch(/420 errors in 30000 requests over since the step/);
    // And a pass over the step counts toward the sample a pass needs.
    const thin = verdictTable(
      { ...input({ requests: 500 }), sinceStep: { ...input({}), window: 's' } },
      t,
      policy,
      'w',
    );
    expect(row(thin, 'errorRate').class).toBe('pass');
  });

  it('raises the error threshold to stable + the margin: a shared bad day passes', () => {
    const rows = verdictTable(input({ errors: 90 }, { errors: 756 }), t, policy, 'w');
    expect(row(rows, 'errorRate')).toMatchObject({
      class: 'pass',
      stable: expect.closeTo(2.8),
      threshold: 1,
      samples: 3000,
    });
    expect(row(rows, 'errorRate').message).toContain('not shown above 3.30 %');
    expect(row(rows, 'p95')).toMatchObject({ stable: 280, threshold: 2000, failsWhen: 'above', unit: 'ms' });
  });

  it('catches a gross failure on a handful of requests, and calls the rest underpowered', () => {
    const srm = srmOf(0, 1000);
    const rows = verdictTable(input({ requests: 20, errors: 6 }, {}, { srm }), t, policy, 'w');
    expect(rows.map((r) => [r.metric, r.class])).toEqual([
      ['errorRate', 'fail'],
      ['p95', 'underpowered'],
      ['emailDelivery', 'nodata'],
      ['uploadFailure', 'nodata'],
      ['srm', 'fail'],
    ]);
    expect(row(rows, 'p95')).toMatchObject({ needs: 491 });
  });

  it('judges each business route that has a threshold, by its failure share', () => {
    const routes = {
      invoice_created: { canary: { succeeded: 90, failed: 10 }, stable: { succeeded: 990, failed: 10 } },
      template_used: { canary: { succeeded: 3, failed: 0 }, stable: { succeeded: 50, failed: 0 } },
    };
    const withRoutes = resolveGuardPolicy({
      routes: { invoice_created: 98, template_used: 99, email_sent: 90 },
    });
    const rows = verdictTable(input({}, {}, { routes }), t, withRoutes, 'w');
    expect(row(rows, 'route:invoice_created')).toMatchObject({
      class: 'fail',
      canary: 90,
      stable: 99,
      threshold: 98,
    });
    expect(row(rows, 'route:template_used')).toMatchObject({ class: 'underpowered', samples: 3 });
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
    const rows = verdictTable(input({ errors: 90, p95Ms: 2500 }), t, policy, 'w');
    const verdict = overallVerdict(rows, policy);
    expect(verdict.status === 'breach' && verdict.failing.map((r) => r.metric)).toEqual(['errorRate', 'p95']);
  });

  it('is inconclusive while requests are underpowered, and on a sample-ratio mismatch unless it aborts', () => {
    expect(overallVerdict(verdictTable(input({ requests: 1000 }), t, policy, 'w'), policy)).toEqual({
      status: 'inconclusive',
      reason: expect.stringContaining('inconclusive (underpowered): needs 1685 more requests'),
    });
    const srm = srmOf(1500, 8500);
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

  it('is healthy when every acting row passes, or is a business row without enough data', () => {
    const rows = verdictTable(input({ emailDelivered: 9, emailFailed: 1 }), t, policy, 'w');
    expect(row(rows, 'emailDelivery').class).toBe('underpowered');
    expect(overallVerdict(rows, policy)).toEqual({ status: 'healthy' });
  });

  it('comes with the verdict from analyzeCanary, which keeps the table', () => {
    const stats = {
      canary: unsampled({ requests: 1000, errors: 80 }),
      stable: unsampled({ requests: 9000 }),
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
  it('prints aligned columns, a dash for missing values, what an underpowered row needs, dry runs', () => {
    const dry = resolveGuardPolicy({ dryRun: ['uploadFailure'] });
    const srm = srmOf(1000, 9000);
    const lines = formatVerdictTable(
      verdictTable(input({ requests: 1000, errors: 2 }, {}, { srm }), t, dry, 'w'),
    );
    expect(lines).toEqual([
      'metric         canary   stable   fails when  samples  class',
      'errorRate      0.20 %   0.10 %   > 1 %       1000     inconclusive (underpowered): needs 1685 more',
      'p95            300 ms   280 ms   > 2000 ms   1000     pass',
      'emailDelivery  —        —        < 90 %      0        nodata',
      'uploadFailure  —        —        > 5 %       0        nodata (dry run)',
      'srm            10.00 %  10.00 %  < p 0.001   10000    pass',
    ]);
  });
});

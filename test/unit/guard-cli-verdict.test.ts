import { describe, expect, it } from 'vitest';
import { formatVerdict, formatVerdictDetails } from '../../cli/verdict';
import { formatGuardVerdict } from '../../cli/format-output';
import { parseCommandLine } from '../../cli/command-line';
import { analyzeCanary, GuardVerdictRecordSchema } from '../../src/guard/analyze-canary';
import { resolveGuardPolicy, resolveThresholds } from '../../src/guard/guard-settings';
import { sampleRatioTest } from '../../src/guard/sample-ratio';
import { unsampled } from '../support/fake-sql-api/control';

const AT = '2026-11-25T12:20:00.000Z';

function record() {
  const minutes = Array.from({ length: 5 }, () => ({ canary: 20, stable: 180 }));
  const srm = sampleRatioTest({ canary: 100, stable: 900, minutes }, 10, 0.001);
  // 1000 requests with 2 errors: no breach, but too few to have caught one (2685 needed).
  const verdict = analyzeCanary(
    {
      canary: unsampled({ requests: 1000, errors: 2, p95Ms: 410 }),
      stable: unsampled({ requests: 9000, errors: 9, p95Ms: 380 }),
    },
    resolveThresholds(undefined),
    'last 5 min',
    { policy: resolveGuardPolicy(undefined), srm },
  );
  return GuardVerdictRecordSchema.parse({
    ...verdict,
    at: AT,
    configVersion: 14,
    action: { type: 'none', why: 'bake not started' },
    schedule: { current: 10, next: 50, bakeEndsAt: null, note: 'bake not started: waiting for v14' },
    streak: { healthy: 2, inconclusive: 0, stepStartedAt: '2026-11-25T12:00:00.000Z' },
    srm,
    propagation: {
      version: 14,
      stepStartedAt: '2026-11-25T12:00:00.000Z',
      lastMinute: { at: '2026-11-25T12:19:00.000Z', percent: 97.44, requests: 1000 },
      bakeStartedAt: null,
      threshold: 99,
    },
    configVersions: [
      { version: '14', requests: 974, percent: 97.4 },
      { version: '13', requests: 26, percent: 2.6 },
    ],
    workerVersions: [{ version: 'a1b2', requests: 1000, percent: 100 }],
    sql: ['SELECT 1', 'SELECT 2'],
  });
}

describe('npx rollout verdict', () => {
  it('is a command that takes no arguments', () => {
    const parsed = parseCommandLine(['verdict']);
    expect(parsed).toMatchObject({ command: { name: 'verdict' } });
  });

  it('prints the headline, the per-metric table, the split, propagation, streak, versions and action', () => {
    expect(formatVerdict(record()).split('\n')).toEqual([
      `Verdict   inconclusive at ${AT} (last 5 min) on config v14`,
      '  reason: canary error rate 0.20 %, not shown above 1.00 %: 2 errors in 1000 requests; inconclusive (underpowered): needs 1685 more requests (2685 to catch twice the allowed share)',
      '  metric         canary   stable   fails when  samples  class',
      '  errorRate      0.20 %   0.10 %   > 1 %       1000     inconclusive (underpowered): needs 1685 more',
      '  p95            410 ms   380 ms   > 2000 ms   1000     pass',
      '  emailDelivery  —        —        < 90 %      0        nodata',
      '  uploadFailure  —        —        > 5 %       0        nodata',
      '  srm            10.00 %  10.00 %  < p 0.001   1000     pass',
      '  split: pass (100 canary of 1000 (10.00 %, expected 10 %): χ² 0.00, p 1.0)',
      '  propagation: v14: 97.4 % of the last minute (bake waits for 99 %)',
      '  streak: 2 healthy, 0 inconclusive in a row',
      '  config versions: v14 97.4 %, v13 2.6 %',
      '  worker versions: a1b2 100.0 %',
      '  action: none (why bake not started)',
      '  schedule: bake not started: waiting for v14',
      '  sql: 2 queries kept with the verdict (print them with --json)',
    ]);
  });

  it('says so when there is no verdict, and shows an unreadable one as it is', () => {
    expect(formatVerdict(null)).toBe('Verdict   none yet: the guard has not judged a live canary');
    expect(formatVerdict({ status: 'odd' })).toBe('Verdict   unreadable: {"status":"odd"}');
  });

  it('puts the table in `status` too (an underpowered row says what it needs), and nothing extra for a verdict stored before tables existed', () => {
    expect(formatGuardVerdict(record())).toEqual(
      expect.arrayContaining([
        '  errorRate      0.20 %   0.10 %   > 1 %       1000     inconclusive (underpowered): needs 1685 more',
        '  srm            10.00 %  10.00 %  < p 0.001   1000     pass',
      ]),
    );
    const old = {
      status: 'unknown',
      at: AT,
      reason: 'SQL API answered 500',
      action: { type: 'none', why: 'x' },
    };
    expect(formatVerdictDetails(old)).toEqual([]);
  });
});

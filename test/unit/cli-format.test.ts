import { describe, expect, it } from 'vitest';
import { StateBodySchema } from '../../src/admin/admin-schemas';
import { AuditEntrySchema } from '../../src/admin/history-and-audit';
import {
  describeAuditChange,
  formatAudit,
  formatGuardVerdict,
  formatStatus,
  formatTable,
} from '../../cli/format-output';
import { kvFallbackCommand } from '../../cli/run-cli';

const numbers = {
  window: 'last 5 min',
  canary: {
    requests: 1200,
    errors: 36,
    errorRatePercent: 3,
    p95Ms: 812.456,
    emailSamples: 0,
    emailDeliveryPercent: null,
    uploadSamples: 40,
    uploadFailurePercent: 2.5,
  },
  stable: { requests: 10800, errorRatePercent: 0.4, baselineErrorRatePercent: 0.4 },
  thresholds: { errorRatePercent: 1, p95Ms: 2000 },
};

const state = (overrides: { guard?: unknown; kill?: object } = {}) =>
  StateBodySchema.parse({
    version: 7,
    state: 'ramping',
    percent: 12.5,
    source: 'kv',
    kill: {
      canary: false,
      allFlags: false,
      flags: ['templates'],
      raw: 'flag:templates',
      sources: { api: 'flag:templates', hand: null },
      ...overrides.kill,
    },
    replica: { committedVersion: 7, replicatedVersion: 7, kvVersion: 7, lagging: false, failedAttempts: 0 },
    guard: overrides.guard ?? null,
    config: {
      version: 7,
      rollout: { percent: 12.5, salt: 's1', state: 'ramping', steps: [10, 50, 100], bakeMinutes: 15 },
      flags: {
        fileStorage: { enabled: true, percent: 50 },
        templates: { enabled: true },
        analytics: { enabled: false, default: true },
      },
    },
  });

describe('formatTable', () => {
  it('aligns columns two spaces apart without trailing spaces, and flattens newlines in cells', () => {
    expect(
      formatTable(
        ['name', 'on'],
        [
          ['templates', 'yes'],
          ['a\nb', ''],
        ],
      ),
    ).toBe(['name       on', 'templates  yes', 'a b'].join('\n'));
  });
});

describe('formatStatus', () => {
  it('shows state, percent, version, steps, kill switch and a flags table with kills marked', () => {
    const text = formatStatus(state());
    expect(text).toContain('State     ramping');
    expect(text).toContain('Percent   12.5 %');
    expect(text).toContain('Version   7 (config from kv)');
    expect(text).toContain('Steps     10 % → 50 % → 100 %, 15 min bake each');
    expect(text).toContain('Kill      ON: flags forced off: templates');
    expect(text).toMatch(/fileStorage\s+on\s+50 %\s+off\s+-/);
    expect(text).toMatch(/templates\s+on\s+100 %\s+off\s+KILLED/);
    expect(text).toMatch(/analytics\s+off\s+100 %\s+on\s+-/);
    expect(text).toContain('Guard     no verdict yet');
  });

  it('says "off" when nothing is killed and marks every flag when all flags are killed', () => {
    expect(formatStatus(state({ kill: { flags: [], raw: null } }))).toContain('Kill      off');
    const all = formatStatus(state({ kill: { canary: true, allFlags: true, flags: [], raw: 'all' } }));
    expect(all).toContain('ON: canary stopped (everyone on stable); every flag forced off');
    expect(all.match(/KILLED/g)).toHaveLength(3);
  });
});

describe('formatStatus after a write (issue 23)', () => {
  it('shows the time since the commit and where the KV replica stands', () => {
    const base = state();
    const committedAt = Date.UTC(2026, 10, 25, 12);
    const text = formatStatus(
      { ...base, replica: { ...base.replica, committedAt, lagging: true, kvVersion: 6 } },
      committedAt + 12_400,
    );
    expect(text).toContain('Version   7 (config from kv), committed 12 s ago');
    expect(text).toContain('Replica   lagging: KV holds version 6, being repaired');
    const inStep = formatStatus({ ...base, replica: { ...base.replica, lagging: false, kvVersion: 7 } });
    expect(inStep).toContain('Replica   in step (KV holds version 7)');
    expect(inStep).not.toContain('committed');
  });
});

describe('formatGuardVerdict', () => {
  it('shows a breach with its reasons, both cohorts’ numbers, thresholds and the action taken', () => {
    const lines = formatGuardVerdict({
      status: 'breach',
      at: '2026-11-25T12:00:00.000Z',
      reasons: [{ metric: 'errorRate', value: 3, threshold: 1, message: 'canary error rate 3 % > 1 %' }],
      numbers,
      action: { type: 'aborted', version: 8 },
    }).join('\n');
    expect(lines).toContain('Guard     breach at 2026-11-25T12:00:00.000Z (last 5 min)');
    expect(lines).toContain('breach: canary error rate 3 % > 1 %');
    // One row per figure, a column per cohort; a figure a cohort lacks stays blank, null shows '-'.
    expect(lines).toContain(
      [
        '                            canary  stable',
        '  requests                  1200    10800',
        '  errors                    36',
        '  errorRatePercent          3       0.4',
        '  p95Ms                     812.46',
        '  emailSamples              0',
        '  emailDeliveryPercent      -',
        '  uploadSamples             40',
        '  uploadFailurePercent      2.5',
        '  baselineErrorRatePercent          0.4',
      ].join('\n'),
    );
    expect(lines).toContain('thresholds: errorRatePercent 1, p95Ms 2000');
    expect(lines).toContain('action: aborted (version 8)');
  });

  it('reads cohort numbers placed at the top level, and an unknown verdict’s reason', () => {
    const flat = formatGuardVerdict({
      status: 'healthy',
      canary: { requests: 5 },
      stable: { requests: 50 },
    }).join('\n');
    expect(flat).toContain('Guard     healthy');
    expect(flat).toMatch(/canary {2}stable\n {2}requests {2}5 {7}50/);
    const unknown = formatGuardVerdict({
      status: 'unknown',
      at: '2026-11-25T12:00:00.000Z',
      reason: 'SQL API 401',
    });
    expect(unknown).toEqual(['Guard     unknown at 2026-11-25T12:00:00.000Z', '  reason: SQL API 401']);
  });

  it('never throws on a malformed verdict: it shows what it got', () => {
    expect(formatGuardVerdict('garbage')).toEqual(['Guard     unreadable verdict: "garbage"']);
    expect(formatGuardVerdict({ reasons: 'x', numbers: 4 })).toEqual(['Guard     unknown status']);
  });
});

describe('audit formatting', () => {
  const config = (state: string, percent: number, flags: object = {}) => ({
    rollout: { state, percent },
    flags,
  });

  it('describes state, percent and flag changes between two configs', () => {
    expect(
      describeAuditChange({
        before: config('ramping', 50, { templates: { enabled: false } }),
        after: config('promoted', 100, { templates: { enabled: true, percent: 25 } }),
      }),
    ).toBe('ramping → promoted; percent 50 → 100; flag templates off → on 25 %');
  });

  it('describes kill switch changes by their KV values', () => {
    expect(describeAuditChange({ before: { kill: null }, after: { kill: 'canary' } })).toBe(
      'kill none → "canary"',
    );
  });

  it('tabulates entries and points to the next page when there is one', () => {
    const entry = AuditEntrySchema.parse({
      id: 'x1',
      at: '2026-11-25T12:00:00.000Z',
      actor: 'token:alice',
      action: 'set-percent',
      before: config('idle', 0),
      after: config('ramping', 10),
      version: 3,
      reason: 'step 1',
    });
    const text = formatAudit([entry], 'next-page');
    expect(text).toMatch(
      /2026-11-25T12:00:00.000Z\s+token:alice\s+set-percent\s+3\s+idle → ramping; percent 0 → 10\s+step 1/,
    );
    expect(text).toContain('More entries: npx rollout audit --cursor next-page');
    expect(formatAudit([], null)).toBe('No audit entries.');
  });
});

describe('kvFallbackCommand', () => {
  it('prints the exact wrangler command for a kill, an abort and lifting the kill switch', () => {
    expect(kvFallbackCommand({ name: 'kill', targets: { canary: true, allFlags: false, flags: [] } })).toBe(
      'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env <environment>',
    );
    expect(
      kvFallbackCommand(
        { name: 'kill', targets: { canary: true, allFlags: false, flags: ['emailDelivery'] } },
        'production',
      ),
    ).toBe(
      'npx wrangler kv key put --binding=ROLLOUT kill "canary flag:emailDelivery" --remote --env production',
    );
    expect(kvFallbackCommand({ name: 'abort' }, 'production')).toBe(
      'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env production',
    );
    expect(kvFallbackCommand({ name: 'kill', targets: 'off' })).toBe(
      'npx wrangler kv key delete --binding=ROLLOUT kill --remote --env <environment>',
    );
    expect(kvFallbackCommand({ name: 'set', percent: 10 })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { applyCommand } from '../../src/admin/apply-command';
import type { AdminCommand } from '../../src/admin/lifecycle';
import {
  PREVIEW_HASH_BUDGET,
  PREVIEW_MIN_SAMPLE,
  PREVIEW_SAMPLE_SIZE,
  PreviewTooLargeError,
  previewChange,
  sampleIds,
  type PreviewSide,
} from '../../src/admin/preview';
import { RolloutConfigSchema, type RolloutConfig } from '../../src/config/config-schema';
import { bucket, BUCKETS } from '../../src/split/bucket';

function config(rollout: Record<string, unknown>, flags: Record<string, unknown> = {}): RolloutConfig {
  return RolloutConfigSchema.parse({ version: 7, rollout: { salt: 'launch-1', ...rollout }, flags });
}

const side = (c: RolloutConfig, kill: string | null = null): PreviewSide => ({ config: c, kill });

const context = {
  now: Date.UTC(2026, 10, 25),
  newSalt: () => 'fresh-salt',
  origins: { stable: 'http://s', canary: 'http://c' },
};

function after(before: RolloutConfig, command: AdminCommand): RolloutConfig {
  const result = applyCommand(before, command, context);
  if (!result.ok) throw new Error(result.error);
  return result.config;
}

// The exact answer, counted bucket by bucket with the splitter's own rule (percent × 100 buckets).
function bucketCount(percentBefore: number, percentAfter: number) {
  let up = 0;
  let down = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const was = b < Math.round(percentBefore * 100);
    const is = b < Math.round(percentAfter * 100);
    if (!was && is) up++;
    if (was && !is) down++;
  }
  return { up: up / BUCKETS, down: down / BUCKETS };
}

describe('previewChange: percent with the same salt', () => {
  it.each([
    [10, 25],
    [0.01, 0.02],
    [12.34, 56.78],
    [50, 10],
    [99.99, 100],
  ])(
    'ramping %s % → %s % moves exactly |p2 − p1| of visitors, one way, as counted over 10,000 buckets',
    (p1, p2) => {
      const before = config({ percent: p1, state: 'ramping' });
      const preview = previewChange(side(before), side(after(before, { type: 'set-percent', percent: p2 })));
      const counted = bucketCount(p1, p2);
      expect(preview.moves).toEqual([
        {
          subject: 'cohort',
          from: p2 > p1 ? 'stable' : 'canary',
          to: p2 > p1 ? 'canary' : 'stable',
          share: p2 > p1 ? counted.up : counted.down,
          exact: true,
          error: 0,
          margin95: 0,
        },
      ]);
      expect(preview.moves[0]!.share).toBeCloseTo(Math.abs(p2 - p1) / 100, 12);
      expect(preview.canaryShare).toEqual({
        before: Math.round(p1 * 100) / BUCKETS,
        after: Math.round(p2 * 100) / BUCKETS,
      });
      expect(preview.summary[0]).toBe(
        `${Number(Math.abs(p2 - p1).toFixed(2))} % of visitors move from ${p2 > p1 ? 'stable to canary' : 'canary to stable'} (exact).`,
      );
    },
  );

  it('pause and resume move nobody', () => {
    const ramping = config({ percent: 30, state: 'ramping' });
    const paused = after(ramping, { type: 'pause' });
    const preview = previewChange(side(ramping), side(paused));
    expect(preview.movesVisitors).toBe(false);
    expect(preview.moves).toEqual([]);
    expect(preview.summary).toEqual(['No visitor changes cohort or flag value.']);
    expect(previewChange(side(paused), side(after(paused, { type: 'resume' }))).movesVisitors).toBe(false);
  });
});

describe('previewChange: state transitions and the kill switch move the whole cohort', () => {
  it('abort sends every canary visitor to stable, exactly', () => {
    const before = config({ percent: 37.5, state: 'ramping' });
    const preview = previewChange(side(before), side(after(before, { type: 'abort' })));
    expect(preview.moves).toEqual([
      { subject: 'cohort', from: 'canary', to: 'stable', share: 0.375, exact: true, error: 0, margin95: 0 },
    ]);
  });

  it('promote sends every stable visitor to the canary, exactly', () => {
    const before = config({ percent: 50, state: 'paused' });
    const preview = previewChange(side(before), side(after(before, { type: 'promote' })));
    expect(preview.moves).toEqual([
      { subject: 'cohort', from: 'stable', to: 'canary', share: 0.5, exact: true, error: 0, margin95: 0 },
    ]);
  });

  it('a canary kill moves the canary cohort to stable; a hand-set kill already in force makes it move nobody', () => {
    const c = config({ percent: 20, state: 'ramping' });
    expect(previewChange(side(c), side(c, 'canary')).moves).toEqual([
      { subject: 'cohort', from: 'canary', to: 'stable', share: 0.2, exact: true, error: 0, margin95: 0 },
    ]);
    expect(previewChange(side(c), side(c, 'canary'), { handKill: 'all' }).movesVisitors).toBe(false);
  });

  it('a new ramp after an abort with a new salt is exact: nobody was in the canary before', () => {
    const aborted = config({ percent: 0, state: 'aborted' });
    const ramp = config({ percent: 10, state: 'ramping', salt: 'launch-2' });
    expect(previewChange(side(aborted), side(ramp)).moves).toEqual([
      { subject: 'cohort', from: 'stable', to: 'canary', share: 0.1, exact: true, error: 0, margin95: 0 },
    ]);
  });
});

describe('previewChange: a new salt is estimated on a fixed sample, within its stated error', () => {
  it('uses a fixed, seeded sample of visitor-shaped ids', () => {
    const ids = sampleIds(1000);
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(sampleIds(1000)).toEqual(ids);
  });

  it.each([10, 25, 50, 90])('at %s %, about 2p(1 − p) change cohort, each way about p(1 − p)', (percent) => {
    const p = percent / 100;
    const before = config({ percent, state: 'ramping', salt: 'salt-a' });
    const changed = config({ percent, state: 'ramping', salt: 'salt-b' });
    const preview = previewChange(side(before), side(changed));
    expect(preview.moves.map((m) => [m.from, m.to, m.exact])).toEqual([
      ['stable', 'canary', false],
      ['canary', 'stable', false],
    ]);
    const total = preview.moves[0]!.share + preview.moves[1]!.share;
    // The sum's standard error is at most the sum of the two stated ones.
    const stated = preview.moves[0]!.error + preview.moves[1]!.error;
    expect(stated).toBeGreaterThan(0);
    expect(stated).toBeLessThan(0.006);
    expect(Math.abs(total - 2 * p * (1 - p))).toBeLessThan(stated);
    for (const move of preview.moves) expect(Math.abs(move.share - p * (1 - p))).toBeLessThan(2 * move.error);
    expect(preview.summary[0]).toMatch(
      /^About [\d.]+ % ± [\d.]+ % of visitors move from stable to canary \(estimated on 40,000 sample ids/,
    );
  });

  it('the estimate is the real count of the sample ids that change cohort', () => {
    const before = config({ percent: 30, state: 'ramping', salt: 'salt-a' });
    const changed = config({ percent: 30, state: 'ramping', salt: 'salt-b' });
    const preview = previewChange(side(before), side(changed), { sampleSize: 2000 });
    const ids = sampleIds(2000);
    const up = ids.filter((id) => bucket('salt-a', id) >= 3000 && bucket('salt-b', id) < 3000).length;
    const down = ids.filter((id) => bucket('salt-a', id) < 3000 && bucket('salt-b', id) >= 3000).length;
    expect(preview.moves.map((m) => m.share)).toEqual([up / 2000, down / 2000]);
    expect(preview.sample.size).toBe(2000);
  });
});

describe('previewChange: flags', () => {
  const flags = {
    templates: { enabled: true, percent: 20 },
    emailDelivery: { enabled: false },
    analytics: { enabled: true, percent: 100, default: true },
  };

  it('raising a flag’s percent turns it on for exactly the difference', () => {
    const before = config({ percent: 0 }, flags);
    const next = after(before, { type: 'set-flag', name: 'templates', enabled: true, percent: 45 });
    expect(previewChange(side(before), side(next)).moves).toEqual([
      { subject: 'templates', from: 'off', to: 'on', share: 0.25, exact: true, error: 0, margin95: 0 },
    ]);
  });

  it('switching a flag off turns it off for everyone who had it; a default-on flag switched off flips nobody', () => {
    const before = config({ percent: 0 }, flags);
    const off = after(before, { type: 'set-flag', name: 'templates', enabled: false });
    expect(previewChange(side(before), side(off)).moves).toEqual([
      { subject: 'templates', from: 'on', to: 'off', share: 0.2, exact: true, error: 0, margin95: 0 },
    ]);
    const analyticsOff = after(before, { type: 'set-flag', name: 'analytics', enabled: false });
    expect(previewChange(side(before), side(analyticsOff)).movesVisitors).toBe(false);
  });

  it('killing every flag turns off each flag for those who had it, flag by flag', () => {
    const c = config({ percent: 0 }, flags);
    expect(previewChange(side(c), side(c, 'flags')).moves).toEqual([
      { subject: 'analytics', from: 'on', to: 'off', share: 1, exact: true, error: 0, margin95: 0 },
      { subject: 'templates', from: 'on', to: 'off', share: 0.2, exact: true, error: 0, margin95: 0 },
    ]);
  });

  it('a new seed is estimated', () => {
    const before = config({ percent: 0 }, flags);
    const reseeded = config(
      { percent: 0 },
      { ...flags, templates: { enabled: true, percent: 20, seed: 'other' } },
    );
    const moves = previewChange(side(before), side(reseeded)).moves;
    expect(moves.map((m) => [m.subject, m.from, m.to, m.exact])).toEqual([
      ['templates', 'off', 'on', false],
      ['templates', 'on', 'off', false],
    ]);
    for (const move of moves) expect(Math.abs(move.share - 0.16)).toBeLessThan(2 * move.error);
  });
});

describe('previewChange: the work of one preview is bounded (issue 21 M6)', () => {
  // `count` flags whose seeds all change, with a new salt: every subject needs estimating.
  function reseedAll(count: number): [RolloutConfig, RolloutConfig] {
    const flagsWith = (suffix: string) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, i) => [
          `f${i}`,
          { enabled: true, percent: 10 + (i % 80), seed: `f${i}-${suffix}` },
        ]),
      );
    return [
      config({ percent: 30, state: 'ramping', salt: 'salt-a' }, flagsWith('a')),
      config({ percent: 30, state: 'ramping', salt: 'salt-b' }, flagsWith('b')),
    ];
  }

  it('200 reseeded flags and a new salt shrink the sample to fit the hash budget, and say so', () => {
    const [before, next] = reseedAll(200);
    const preview = previewChange(side(before), side(next));
    expect(preview.sample.estimated).toBe(201);
    // Two hashes per sample id per estimated subject: the whole cost of the estimates.
    expect(2 * preview.sample.size * preview.sample.estimated).toBeLessThanOrEqual(PREVIEW_HASH_BUDGET);
    expect(preview.sample.size).toBe(Math.floor(PREVIEW_HASH_BUDGET / (2 * 201)));
    expect(preview.sample.size).toBeGreaterThanOrEqual(PREVIEW_MIN_SAMPLE);
    expect(preview.summary).toContain(
      `201 figures are estimated, so each used ${preview.sample.size.toLocaleString('en-US')} sample ids instead of 40,000 to keep the preview within its budget: the errors are wider.`,
    );
  });

  it('a smaller sample still states its error, the 95 % interval holds the expected share', () => {
    const [before, next] = reseedAll(200);
    const preview = previewChange(side(before), side(next));
    const cohort = preview.moves.filter((m) => m.subject === 'cohort');
    for (const move of cohort) {
      expect(move.exact).toBe(false);
      expect(move.error).toBeCloseTo(Math.sqrt((move.share * (1 - move.share)) / preview.sample.size), 12);
      expect(move.margin95).toBeCloseTo(1.96 * move.error, 12);
      // 30 % with a new salt: each way about p(1 − p) = 0.21.
      expect(Math.abs(move.share - 0.21)).toBeLessThan(move.margin95);
    }
    expect(preview.summary[0]).toMatch(
      /^About [\d.]+ % ± [\d.]+ % of visitors move from stable to canary \(estimated on 2,487 sample ids; 95 % interval, standard error [\d.]+ %\)\.$/,
    );
  });

  it('a few estimated subjects keep the full sample', () => {
    const [before, next] = reseedAll(3);
    expect(previewChange(side(before), side(next)).sample).toEqual({
      size: PREVIEW_SAMPLE_SIZE,
      seed: 'edge-rollout-preview-v1',
      estimated: 4,
    });
  });

  it('more subjects than fit at the smallest sample are refused before any hashing, naming the limit', () => {
    // A config holds at most 200 flags, which fit the default budget; a smaller budget shows the refusal.
    const [before, next] = reseedAll(200);
    const hashBudget = 400_000;
    expect(() => previewChange(side(before), side(next), { hashBudget })).toThrow(PreviewTooLargeError);
    expect(() => previewChange(side(before), side(next), { hashBudget })).toThrow(
      "too large to preview: 201 subjects change their seed or salt and need estimating, at most 100 fit one preview's budget; preview fewer changes at a time",
    );
    expect(() => previewChange(side(before), side(next), { hashBudget: 2 * 201 * 2000 })).not.toThrow();
  });

  it('exact subjects cost nothing: 200 flags with unchanged seeds and the same salt preview in full', () => {
    const [before] = reseedAll(200);
    const next = after(before, { type: 'set-percent', percent: 40 });
    const preview = previewChange(side(before), side(next), { hashBudget: 0 });
    expect(preview.sample.estimated).toBe(0);
    expect(preview.moves).toEqual([
      { subject: 'cohort', from: 'stable', to: 'canary', share: 0.1, exact: true, error: 0, margin95: 0 },
    ]);
  });
});

describe('previewChange: requests from recent traffic', () => {
  it('turns shares into requests from the cohort the visitors leave, and says it is estimated', () => {
    const before = config({ percent: 20, state: 'ramping' });
    const next = after(before, { type: 'set-percent', percent: 60 });
    const traffic = { windowMinutes: 60, stable: 8000, canary: 2000 };
    const preview = previewChange(side(before), side(next), { traffic });
    // 40 % of visitors leave stable (80 % of visitors): half of stable's requests.
    expect(preview.moves[0]).toMatchObject({ share: 0.4, exact: true, requests: 4000 });
    expect(preview.summary).toEqual([
      '40 % of visitors move from stable to canary (exact); about 4,000 requests in the window came from them.',
      'Requests are estimated from the last 60 min of traffic (8,000 stable, 2,000 canary), assuming requests spread evenly over visitors.',
    ]);
    expect(preview.traffic).toEqual(traffic);
  });
});

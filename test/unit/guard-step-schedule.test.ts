import { describe, expect, it } from 'vitest';
import type { RolloutConfig } from '../../src/config/config-schema';
import { planStep } from '../../src/guard/step-schedule';

const started = Date.UTC(2026, 10, 25, 12, 0, 0);
const minute = 60_000;

function rollout(overrides: Partial<RolloutConfig['rollout']> = {}): RolloutConfig['rollout'] {
  return {
    percent: 10,
    salt: 's',
    state: 'ramping',
    steps: [10, 50, 100],
    bakeMinutes: 15,
    stepStartedAt: new Date(started).toISOString(),
    ...overrides,
  };
}

describe('planStep', () => {
  it('has nothing to plan without a schedule', () => {
    expect(planStep(rollout({ steps: undefined }), started + 60 * minute)).toEqual({ kind: 'none' });
  });

  it('holds while the current step bakes, saying how long is left', () => {
    const plan = planStep(rollout(), started + 14 * minute + 1);
    expect(plan.kind).toBe('hold');
    if (plan.kind !== 'hold') return;
    expect(plan.status).toEqual({
      current: 10,
      next: 50,
      bakeEndsAt: '2026-11-25T12:15:00.000Z',
      note: 'baking: 1 min left at 10 %',
    });
  });

  it('makes the next step due once bakeMinutes have passed since stepStartedAt', () => {
    const plan = planStep(rollout(), started + 15 * minute);
    expect(plan).toMatchObject({ kind: 'due', next: 50, bakeStartedMs: started });
  });

  it('picks the first step above the current percent, even off-schedule', () => {
    expect(planStep(rollout({ percent: 25 }), started + 15 * minute)).toMatchObject({
      kind: 'due',
      next: 50,
    });
    expect(planStep(rollout({ percent: 50 }), started + 15 * minute)).toMatchObject({
      kind: 'due',
      next: 100,
    });
  });

  it('holds when the schedule is complete', () => {
    const plan = planStep(rollout({ percent: 100 }), started + 99 * minute);
    expect(plan).toMatchObject({ kind: 'hold', status: { next: null } });
  });

  it.each(['paused', 'promoted', 'aborted', 'idle', 'finalized'] as const)(
    'never advances a %s rollout',
    (state) => {
      const plan = planStep(rollout({ state }), started + 99 * minute);
      expect(plan.kind).toBe('hold');
      if (plan.kind === 'hold') expect(plan.status.note).toContain(state);
    },
  );

  it('holds when stepStartedAt is unknown, since the bake cannot be timed', () => {
    const plan = planStep(rollout({ stepStartedAt: undefined }), started + 99 * minute);
    expect(plan).toMatchObject({ kind: 'hold', status: { bakeEndsAt: null } });
  });
});

import { describe, expect, it } from 'vitest';
import { stateAllowsPercent, transition, type LifecycleCommand } from '../../src/admin/lifecycle';
import type { RolloutState } from '../../src/config/config-schema';

const STATES: RolloutState[] = ['idle', 'ramping', 'paused', 'promoted', 'finalized', 'aborted'];

// The documented lifecycle (docs/ADMIN-API.md): [from, command, percent, to].
const LEGAL: [RolloutState, LifecycleCommand, number, RolloutState][] = [
  ['idle', 'set-percent', 10, 'ramping'],
  ['idle', 'set-percent', 0, 'idle'],
  ['ramping', 'set-percent', 50, 'ramping'],
  ['ramping', 'set-percent', 0, 'idle'],
  ['ramping', 'pause', 0, 'paused'],
  ['paused', 'resume', 0, 'ramping'],
  ['ramping', 'promote', 0, 'promoted'],
  ['paused', 'promote', 0, 'promoted'],
  ['promoted', 'finalize', 0, 'finalized'],
  ['ramping', 'abort', 0, 'aborted'],
  ['paused', 'abort', 0, 'aborted'],
  ['promoted', 'abort', 0, 'aborted'],
  ['aborted', 'set-percent', 5, 'ramping'],
  ['finalized', 'set-percent', 5, 'ramping'],
  ['aborted', 'set-percent', 0, 'idle'],
];

describe('rollout lifecycle', () => {
  it.each(LEGAL)('%s --%s(%d)--> %s', (from, command, percent, to) => {
    expect(transition(from, command, percent)).toEqual({ ok: true, state: to });
  });

  it('refuses every other transition with a message naming the current state', () => {
    const commands: LifecycleCommand[] = ['set-percent', 'promote', 'finalize', 'abort', 'pause', 'resume'];
    let refused = 0;
    for (const from of STATES)
      for (const command of commands) {
        const legal = LEGAL.some(([f, c]) => f === from && c === command);
        const result = transition(from, command, 10);
        expect(result.ok, `${from} ${command}`).toBe(legal);
        if (!result.ok) {
          refused++;
          expect(result.error).toContain(`the rollout is ${from}`);
        }
      }
    // 6 states × 6 commands, minus the 12 distinct legal (state, command) pairs.
    expect(refused).toBe(24);
  });

  it('tells ops to resume a paused rollout before changing its percent', () => {
    const result = transition('paused', 'set-percent', 50);
    expect(result).toEqual({ ok: false, error: expect.stringContaining('resume first') });
  });

  it('refuses to abort an idle rollout, and to pause one that is not ramping', () => {
    expect(transition('idle', 'abort').ok).toBe(false);
    expect(transition('promoted', 'pause').ok).toBe(false);
    expect(transition('aborted', 'resume').ok).toBe(false);
  });

  it('allows a percent only where the state sends that share of visitors to the canary', () => {
    expect(stateAllowsPercent('idle', 0)).toBe(true);
    expect(stateAllowsPercent('idle', 1)).toBe(false);
    expect(stateAllowsPercent('aborted', 20)).toBe(false);
    expect(stateAllowsPercent('finalized', 0)).toBe(true);
    expect(stateAllowsPercent('promoted', 100)).toBe(true);
    expect(stateAllowsPercent('promoted', 99.99)).toBe(false);
    expect(stateAllowsPercent('ramping', 0)).toBe(true);
    expect(stateAllowsPercent('paused', 42.5)).toBe(true);
  });
});

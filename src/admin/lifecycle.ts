import type { FlagConfig, RolloutState } from '../config/config-schema';

/**
 * A change to the rollout, as the admin API, the CLI and the Cron guard express it. Every command
 * goes through the one writer (the control plane's Durable Object, worker/control/), so each one is
 * validated, versioned, kept in history and audited the same way whoever sent it.
 */
export type AdminCommand =
  | { type: 'set-percent'; percent: number }
  | { type: 'replace-config'; config: unknown }
  | {
      type: 'set-flag';
      name: string;
      enabled?: boolean;
      percent?: number;
      create?: boolean;
      /** A whole definition (boolean or typed) that replaces the flag. */
      flag?: FlagConfig;
      /** A new split for one rule of a typed flag (without `rule`: its fallthrough). */
      weights?: { rule?: number; split: Record<string, number>; coverage?: number };
    }
  | { type: 'promote' }
  | { type: 'finalize' }
  | { type: 'abort'; reason?: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'undo' };

/** The `type` of an {@link AdminCommand}; also the `action` of its audit entry. */
export type AdminCommandType = AdminCommand['type'];

/**
 * The commands that move the lifecycle on and take only an optional reason: each is one
 * `POST /<name>` admin route and one CLI command.
 */
export const TRANSITIONS = [
  'promote',
  'finalize',
  'abort',
  'pause',
  'resume',
  'undo',
] as const satisfies readonly AdminCommandType[];

/** The commands that move a rollout through its lifecycle. */
export type LifecycleCommand = 'set-percent' | 'promote' | 'finalize' | 'abort' | 'pause' | 'resume';

/** The state a command leads to, or why the command is refused (answered with 409). */
export type Transition = { ok: true; state: RolloutState } | { ok: false; error: string };

const refuse = (error: string): Transition => ({ ok: false, error });
const to = (state: RolloutState): Transition => ({ ok: true, state });

/**
 * The rollout lifecycle as a pure table:
 *
 * ```
 * idle ──set-percent>0──▶ ramping ──pause──▶ paused ──resume──▶ ramping
 * ramping|paused ──promote──▶ promoted ──finalize──▶ finalized
 * ramping|paused|promoted ──abort──▶ aborted
 * aborted|finalized ──set-percent>0──▶ ramping (a new ramp)
 * ```
 *
 * A set-percent of 0 leads to `idle`. A paused rollout holds its percent until resumed, and a
 * promoted one is left only by finalize, abort or undo, so a step can never be skipped by mistake.
 *
 * @example
 * transition('paused', 'set-percent', 50); // { ok: false, error: 'cannot set the percent: the rollout is paused (resume first)' }
 */
export function transition(state: RolloutState, command: LifecycleCommand, percent = 0): Transition {
  switch (command) {
    case 'set-percent':
      if (state === 'paused') return refuse('cannot set the percent: the rollout is paused (resume first)');
      if (state === 'promoted')
        return refuse('cannot set the percent: the rollout is promoted (finalize, abort or undo it)');
      return to(percent > 0 ? 'ramping' : 'idle');
    case 'promote':
      if (state === 'ramping' || state === 'paused') return to('promoted');
      return refuse(`cannot promote: the rollout is ${state} (${promoteHint(state)})`);
    case 'finalize':
      if (state === 'promoted') return to('finalized');
      return refuse(`cannot finalize: the rollout is ${state} (only a promoted rollout can be finalized)`);
    case 'abort':
      if (state === 'ramping' || state === 'paused' || state === 'promoted') return to('aborted');
      return refuse(`cannot abort: the rollout is ${state} (no canary is live)`);
    case 'pause':
      if (state === 'ramping') return to('paused');
      return refuse(`cannot pause: the rollout is ${state} (only a ramping rollout can be paused)`);
    case 'resume':
      if (state === 'paused') return to('ramping');
      return refuse(`cannot resume: the rollout is ${state} (only a paused rollout can be resumed)`);
  }
}

function promoteHint(state: RolloutState): string {
  if (state === 'promoted') return 'it already is';
  return 'ramp it up first';
}

/**
 * Whether a state may carry a percent, for configs written whole (PUT /config): `idle`,
 * `aborted` and `finalized` send nobody to the canary, `promoted` sends everybody.
 *
 * @example
 * stateAllowsPercent('idle', 10); // false
 */
export function stateAllowsPercent(state: RolloutState, percent: number): boolean {
  if (state === 'idle' || state === 'aborted' || state === 'finalized') return percent === 0;
  if (state === 'promoted') return percent === 100;
  return true;
}

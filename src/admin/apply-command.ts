import {
  RolloutConfigSchema,
  safeDefaultConfig,
  type RolloutConfig,
  type RolloutState,
} from '../config/config-schema';
import { describeIssues } from '../config/parse-config';
import type { Settings } from '../config/settings';
import { ConfigBodySchema, type ConfigBody } from './admin-schemas';
import { stateAllowsPercent, transition, type AdminCommand } from './lifecycle';

/** What {@link applyCommand} needs besides the current config; all I/O is done by the caller. */
export interface ApplyContext {
  /** Milliseconds since the epoch; stamps `rollout.stepStartedAt`. */
  now: number;
  /** A fresh random salt, for finalize. */
  newSalt(): string;
  /** The origins from the vars, used when the config names none. */
  origins: { stable: string; canary: string };
  /** The config of the version before the current one (from history), for undo. */
  undoTarget?: RolloutConfig;
}

/** The next version of the config, or why there is none. */
export type ApplyResult =
  | { ok: true; config: RolloutConfig }
  | { ok: false; status: 400 | 409 | 412; error: string; issues?: string[] };

type Draft = { ok: true; config: RolloutConfig } | Extract<ApplyResult, { ok: false }>;

/**
 * Applies a command to the current config: enforces the lifecycle, bumps the version by one,
 * stamps `rollout.stepStartedAt` whenever the percent changes, and validates the result against
 * the config schema. Pure: the caller reads and writes KV.
 *
 * @example
 * applyCommand(current, { type: 'set-percent', percent: 10 }, { now: Date.now(), newSalt, origins });
 * // { ok: true, config: { version: current.version + 1, rollout: { percent: 10, state: 'ramping', ... } } }
 */
export function applyCommand(
  current: RolloutConfig,
  command: AdminCommand,
  context: ApplyContext,
): ApplyResult {
  const draft = draftFor(current, command, context);
  return draft.ok ? nextVersion(current, draft.config, context.now) : draft;
}

function draftFor(current: RolloutConfig, command: AdminCommand, context: ApplyContext): Draft {
  switch (command.type) {
    case 'set-percent':
      return withRollout(current, 'set-percent', command.percent, command.percent);
    case 'promote':
      return withRollout(current, 'promote', 100);
    case 'abort':
      return withRollout(current, 'abort', 0);
    case 'pause':
    case 'resume':
      return withRollout(current, command.type, current.rollout.percent);
    case 'finalize': {
      const moved = withRollout(current, 'finalize', 0);
      if (!moved.ok) return moved;
      // The canary becomes the stable origin and a fresh salt makes the next launch start clean.
      const canary = current.origins?.canary ?? context.origins.canary;
      const config = moved.config;
      return {
        ok: true,
        config: {
          ...config,
          origins: { stable: canary, canary },
          rollout: { ...config.rollout, salt: context.newSalt() },
        },
      };
    }
    case 'set-flag': {
      const existing = current.flags[command.name];
      const flag = existing
        ? { ...existing, enabled: command.enabled, percent: command.percent ?? existing.percent }
        : { enabled: command.enabled, percent: command.percent ?? 100, default: false };
      return { ok: true, config: { ...current, flags: { ...current.flags, [command.name]: flag } } };
    }
    case 'replace-config':
      return replaced(current, command.config);
    case 'undo':
      if (!context.undoTarget)
        return {
          ok: false,
          status: 409,
          error: `nothing to undo: version ${current.version} has no previous version in history`,
        };
      return { ok: true, config: context.undoTarget };
  }
}

function withRollout(
  current: RolloutConfig,
  command: Parameters<typeof transition>[1],
  percent: number,
  requestedPercent?: number,
): Draft {
  const next = transition(current.rollout.state, command, requestedPercent);
  if (!next.ok) return { ok: false, status: 409, error: next.error };
  return { ok: true, config: { ...current, rollout: { ...current.rollout, percent, state: next.state } } };
}

function replaced(current: RolloutConfig, input: unknown): Draft {
  const parsed = ConfigBodySchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, status: 400, error: 'invalid config', issues: describeIssues(parsed.error) };
  const body = parsed.data;
  if (body.version !== undefined && body.version !== current.version)
    return {
      ok: false,
      status: 412,
      error: `config version ${body.version} is not the current version ${current.version}`,
    };
  const state = resolveState(current, body);
  if (!stateAllowsPercent(state, body.rollout.percent))
    return {
      ok: false,
      status: 400,
      error: 'invalid config',
      issues: [`rollout.state: a rollout that is ${state} cannot run at ${body.rollout.percent} %`],
    };
  const { stepStartedAt = current.rollout.stepStartedAt } = body.rollout;
  const rollout = { ...body.rollout, state, ...(stepStartedAt ? { stepStartedAt } : {}) };
  return { ok: true, config: { ...body, version: current.version, rollout } };
}

// A config written without a state keeps the current one when it still fits the percent.
function resolveState(current: RolloutConfig, body: ConfigBody): RolloutState {
  if (body.rollout.state) return body.rollout.state;
  if (stateAllowsPercent(current.rollout.state, body.rollout.percent)) return current.rollout.state;
  return body.rollout.percent > 0 ? 'ramping' : 'idle';
}

function nextVersion(current: RolloutConfig, draft: RolloutConfig, now: number): ApplyResult {
  const { stepStartedAt: kept, ...rollout } = draft.rollout;
  const stepStartedAt =
    draft.rollout.percent !== current.rollout.percent ? new Date(now).toISOString() : kept;
  const candidate = {
    ...draft,
    version: current.version + 1,
    rollout: stepStartedAt ? { ...rollout, stepStartedAt } : rollout,
  };
  const result = RolloutConfigSchema.safeParse(candidate);
  if (!result.success)
    return {
      ok: false,
      status: 400,
      error: 'the change would make the config invalid',
      issues: describeIssues(result.error),
    };
  return { ok: true, config: result.data };
}

/**
 * The config that the first admin write starts from when KV holds none: the safe default
 * (version 0, everyone on stable, flags at DEFAULT_FLAGS) with the vars' origins written out,
 * so every stored version says where it routed.
 *
 * @example
 * initialConfig(settings).version; // 0
 */
export function initialConfig(
  settings: Pick<Settings, 'DEFAULT_FLAGS' | 'STABLE_ORIGIN' | 'CANARY_ORIGIN'>,
): RolloutConfig {
  return {
    ...safeDefaultConfig(settings.DEFAULT_FLAGS),
    origins: { stable: settings.STABLE_ORIGIN, canary: settings.CANARY_ORIGIN },
  };
}

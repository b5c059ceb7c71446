import {
  BYPASS_TOKEN,
  MAX_KILL_TEXT,
  RolloutConfigSchema,
  safeDefaultConfig,
  type RolloutConfig,
  type RolloutState,
} from '../config/config-schema';
import { isTypedFlag, type FlagConfig } from '../config/flag-schema';
import { describeIssues } from '../config/parse-config';
import type { Settings } from '../config/settings';
import { ConfigBodySchema, type ConfigBody } from './admin-schemas';
import { killSwitchText, type KillRequest } from './kill-switch-text';
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

/** The part of a version that visitors get: the config and the kill switch set through the API. */
export interface VersionContent {
  config: RolloutConfig;
  kill: string | null;
}

/**
 * What the control plane runs: a config command, a change of the API kill switch, or bypass mode
 * turned on or off (kept as the API kill switch's `bypass` token, so it is versioned with it).
 */
export type ControlCommand =
  | AdminCommand
  | { type: 'kill'; request: KillRequest }
  | { type: 'unkill' }
  | { type: 'bypass' }
  | { type: 'unbypass' };

/** The next content, or why there is none; `changed: false` when visitors would get the same. */
export type VersionStep =
  | { ok: true; changed: boolean; config: RolloutConfig; kill: string | null }
  | Extract<ApplyResult, { ok: false }>;

/**
 * One step of the control plane, pure. Config commands go through {@link applyCommand}; `kill`
 * and `unkill` set or lift the API kill switch (its flags must exist, its text must fit what the
 * splitter reads whole), `bypass` and `unbypass` add or remove its `bypass` token (a kill and a
 * bypass never lift each other), and each bumps the version, so one version names everything visitors
 * get. `undoKill` is the kill switch of the version undo returns to. `changed` is false when
 * the result gives visitors exactly what they get now: the caller then keeps the version.
 *
 * @example
 * stepVersion({ config, kill: null }, { type: 'kill', request: { canary: true } }, context);
 * // { ok: true, changed: true, config: { ...config, version: config.version + 1 }, kill: 'canary' }
 */
export function stepVersion(
  current: VersionContent,
  command: ControlCommand,
  context: ApplyContext & { undoKill?: string | null },
): VersionStep {
  if (
    command.type === 'kill' ||
    command.type === 'unkill' ||
    command.type === 'bypass' ||
    command.type === 'unbypass'
  ) {
    // The kill and bypass share the API kill switch text but never lift each other.
    const bypassed = command.type === 'bypass' || (command.type !== 'unbypass' && hasBypass(current.kill));
    const killPart =
      command.type === 'kill'
        ? killText(current.config, command.request)
        : command.type === 'unkill'
          ? { ok: true as const, text: '' }
          : { ok: true as const, text: withoutBypass(current.kill) };
    if (!killPart.ok) return killPart;
    const text = [killPart.text, bypassed ? BYPASS_TOKEN : ''].filter(Boolean).join(' ') || null;
    if (text !== null && text.length > MAX_KILL_TEXT)
      return {
        ok: false,
        status: 400,
        error: 'kill switch too long',
        issues: [`the kill switch text would be ${text.length} characters; the limit is ${MAX_KILL_TEXT}`],
      };
    const config = { ...current.config, version: current.config.version + 1 };
    return { ok: true, changed: text !== current.kill, config, kill: text };
  }
  const applied = applyCommand(current.config, command, context);
  if (!applied.ok) return applied;
  const kill = command.type === 'undo' ? (context.undoKill ?? null) : current.kill;
  const changed = kill !== current.kill || canonical(applied.config) !== canonical(current.config);
  return { ok: true, changed, config: applied.config, kill };
}

/** Whether an API kill switch text carries the bypass token. */
export function hasBypass(kill: string | null): boolean {
  return kill !== null && kill.split(/[\s,]+/).some((token) => token.toLowerCase() === BYPASS_TOKEN);
}

/** The API kill switch text without its bypass token (`''` when nothing else is left). */
function withoutBypass(kill: string | null): string {
  if (kill === null) return '';
  return kill
    .split(/[\s,]+/)
    .filter((token) => token !== '' && token.toLowerCase() !== BYPASS_TOKEN)
    .join(' ');
}

function killText(
  config: RolloutConfig,
  request: KillRequest,
): { ok: true; text: string } | { ok: false; status: 400; error: string; issues: string[] } {
  const unknown = (request.flags ?? []).filter((name) => !Object.hasOwn(config.flags, name));
  if (unknown.length)
    return {
      ok: false,
      status: 400,
      error: 'unknown flags',
      issues: unknown.map(
        (name) => `flags: "${name}" is not in the config (known: ${Object.keys(config.flags).join(', ')})`,
      ),
    };
  const text = killSwitchText(request);
  // Refused whole rather than written half: the splitter reads only the first MAX_KILL_TEXT.
  if (text.length > MAX_KILL_TEXT)
    return {
      ok: false,
      status: 400,
      error: 'kill switch too long',
      issues: [`the kill switch text would be ${text.length} characters; the limit is ${MAX_KILL_TEXT}`],
    };
  return { ok: true, text };
}

// Versions compare by content: neither key order nor the version number counts.
function canonical(config: RolloutConfig): string {
  return JSON.stringify({ ...config, version: 0 }, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
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
      const existing = Object.hasOwn(current.flags, command.name) ? current.flags[command.name] : undefined;
      // A typo must not create a flag that ops then believe they switched: creating is explicit.
      if (!existing && !command.create)
        return {
          ok: false,
          status: 400,
          error: 'unknown flag',
          issues: [
            `flag "${command.name}" is not in the config (known: ${Object.keys(current.flags).join(', ') || 'none'}); send "create": true to add it`,
          ],
        };
      const flag = changedFlag(existing, command);
      if (!flag.ok) return flag;
      return { ok: true, config: { ...current, flags: { ...current.flags, [command.name]: flag.flag } } };
    }
    case 'replace-config':
      return replaced(current, command.config, context.now);
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

type SetFlag = Extract<AdminCommand, { type: 'set-flag' }>;

/**
 * A flag after `PUT /flags/:name`: the definition sent whole, or `enabled`/`percent` on a boolean
 * flag, or `enabled`/`weights` on a typed one. The config schema then validates the result.
 */
function changedFlag(
  existing: FlagConfig | undefined,
  command: SetFlag,
): { ok: true; flag: FlagConfig } | Extract<ApplyResult, { ok: false }> {
  const refuse = (issue: string) => ({
    ok: false as const,
    status: 400 as const,
    error: 'invalid flag change',
    issues: [issue],
  });
  const at = `flags.${command.name}`;
  if (command.flag) return { ok: true, flag: command.flag };
  if (!existing) {
    if (command.weights)
      return refuse(`${at}: a new flag with variants is created with "flag" (its whole definition)`);
    return {
      ok: true,
      flag: { enabled: command.enabled ?? true, percent: command.percent ?? 100, default: false },
    };
  }
  const enabled = command.enabled ?? existing.enabled;
  if (!isTypedFlag(existing)) {
    if (command.weights)
      return refuse(
        `${at}: a boolean flag has no variants to weigh; send "percent" (or a typed definition as "flag")`,
      );
    return { ok: true, flag: { ...existing, enabled, percent: command.percent ?? existing.percent } };
  }
  if (command.percent !== undefined)
    return refuse(`${at}.percent: "${command.name}" is a typed flag; change its split with "weights"`);
  if (!command.weights) return { ok: true, flag: { ...existing, enabled } };
  const { rule, split, coverage } = command.weights;
  const serve = coverage === undefined ? { split } : { split, coverage };
  if (rule === undefined) return { ok: true, flag: { ...existing, enabled, fallthrough: serve } };
  if (rule >= existing.rules.length)
    return refuse(`${at}.rules.${rule}: "${command.name}" has ${existing.rules.length} rules`);
  const rules = existing.rules.map((r, i) => (i === rule ? { ...r, serve } : r));
  return { ok: true, flag: { ...existing, enabled, rules } };
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

/**
 * How far in the future a `rollout.stepStartedAt` written with the config may lie: clocks of a
 * person's laptop and of the Worker differ by seconds, not minutes. Beyond it the bake time would
 * count from a moment that has not come, and the step schedule would stall until then (2099, say).
 */
export const STEP_STARTED_AT_SKEW_MS = 5 * 60_000;

function replaced(current: RolloutConfig, input: unknown, now: number): Draft {
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
  const given = body.rollout.stepStartedAt;
  if (given !== undefined && Date.parse(given) > now + STEP_STARTED_AT_SKEW_MS)
    return {
      ok: false,
      status: 400,
      error: 'invalid config',
      issues: [
        `rollout.stepStartedAt: ${given} is in the future (now ${new Date(now).toISOString()}, at most ${STEP_STARTED_AT_SKEW_MS / 60_000} min ahead allowed); leave it out and it is set when the percent changes`,
      ],
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

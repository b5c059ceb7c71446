import { KILL_SWITCH_KEY, parseKillSwitch, unionKillSwitch } from '../../src/config/config-schema';
import type { Settings } from '../../src/config/settings';
import { createAnalyticsSqlClient, readWindowStats, type SqlFetch } from '../../src/guard/analytics-sql';
import type { GuardVerdictRecord } from '../../src/guard/analyze-canary';
import { createWebhookNotifier, nullNotifier } from '../../src/guard/guard-notifier';
import type {
  GuardCommandResult,
  GuardDeps,
  GuardStateStore,
  ReadConfig,
  RolloutCommands,
} from '../../src/guard/guard-ports';
import type { GuardSettings } from '../../src/guard/guard-settings';
import type { GuardIncident } from '../../src/guard/handle-breach';
import type { Clock, ErrorReporter, Logger } from '../../src/ports';
import { controlPlaneFor, type ControlPlane, type ControlResult } from './single-writer/control-plane';

/** The per-run ports the scheduled handler provides. */
export interface GuardRunPorts {
  clock: Clock;
  logger: Logger;
  reporter: ErrorReporter;
  fetch: SqlFetch;
  /** The control plane; tests name their own object. */
  control?: ControlPlane;
}

/**
 * Wires one guard run to the Worker: the control plane for the config, verdict, incident and
 * actions (the same single writer as the admin API), KV for the hand-set kill switch, the SQL
 * API for stats, the webhook for notices. Each run judges the committed version, not a replica
 * that may lag.
 *
 * @example
 * const deps = buildGuardDeps(env, settings, guardSettings, { clock, logger, reporter, fetch });
 * await runGuard(deps);
 */
export function buildGuardDeps(
  env: ControlEnv,
  settings: Settings,
  guard: GuardSettings,
  ports: GuardRunPorts,
): GuardDeps {
  const { clock, logger, reporter } = ports;
  // Each failed call is a warning here: the scheduled handler reports an unreachable control
  // plane once per outage, not once per call every minute.
  const controlLogger: Logger = {
    info: (message, fields) => logger.info(message, fields),
    warn: (message, fields) => logger.warn(message, fields),
    error: (message, fields) => logger.warn(message, fields),
  };
  const control = ports.control ?? controlPlaneFor(env.CONTROL, settings, controlLogger);
  const sql = createAnalyticsSqlClient({ ...guard.sql, fetch: ports.fetch });
  return {
    readConfig: committedConfig(env, control, logger),
    stats: { read: (window) => readWindowStats(sql, guard.dataset, window) },
    commands: controlRolloutCommands(control, clock),
    state: controlGuardStateStore(control),
    probeStreaks: {
      read: async () => (await control.probeStreaks()) ?? undefined,
      write: (streaks) => control.setProbeStreaks(streaks),
    },
    notifier: guard.webhookUrl
      ? createWebhookNotifier({ url: guard.webhookUrl, fetch: ports.fetch, logger })
      : nullNotifier,
    reporter,
    logger,
    clock,
    environment: settings.ENVIRONMENT,
  };
}

/** The actor the guard's commands are audited under. */
const GUARD_ACTOR = 'guard';

/**
 * The committed config (from the control plane) with both kill switches. When the control plane
 * cannot be reached the run is skipped: the KV replica may lag behind the committed version, and
 * no abort, verdict or incident could be written to the single writer anyway.
 */
function committedConfig(env: ControlEnv, control: ControlPlane, logger: Logger): ReadConfig {
  return async () => {
    const state = await control.state();
    if ('ok' in state) return { source: 'control-unreachable', error: `${state.status} ${state.error}` };
    let hand: string | null = null;
    try {
      hand = await env.ROLLOUT.get(KILL_SWITCH_KEY, 'text');
    } catch (error) {
      logger.warn('guard: hand-set kill switch unreadable', { error: String(error) });
    }
    const kill = unionKillSwitch(parseKillSwitch(state.kill), parseKillSwitch(hand));
    return { config: state.config, kill, source: 'kv' };
  };
}

/**
 * The guard's rollout commands, through the control plane like every admin write: validated,
 * versioned, kept in history and audited (actor `guard`).
 *
 * @example
 * const commands = controlRolloutCommands(control, clock);
 * await commands.abort('guard: canary p95 2400 ms > 2000 ms');
 */
export function controlRolloutCommands(control: ControlPlane, clock: Clock): RolloutCommands {
  return {
    async abort(reason) {
      return outcome(
        await control.command({ type: 'abort', reason }, { actor: GUARD_ACTOR, reason, now: clock.now() }),
      );
    },
    async setPercent(percent, { ifMatch, reason }) {
      return outcome(
        await control.command(
          { type: 'set-percent', percent },
          { actor: GUARD_ACTOR, ifMatch, reason, now: clock.now() },
        ),
      );
    },
    async pause({ ifMatch, reason }) {
      return outcome(
        await control.command({ type: 'pause' }, { actor: GUARD_ACTOR, ifMatch, reason, now: clock.now() }),
      );
    },
  };
}

function outcome(result: ControlResult): GuardCommandResult {
  return result.ok
    ? { ok: true, version: result.version }
    : { ok: false, status: result.status, error: result.error };
}

/** The guard's verdict and incident, kept by the control plane. Never throws. */
function controlGuardStateStore(control: ControlPlane): GuardStateStore {
  const read = async () => {
    const state = await control.guardState();
    return 'ok' in state ? { verdict: null, incident: null } : state;
  };
  return {
    async readVerdict(): Promise<GuardVerdictRecord | undefined> {
      return (await read()).verdict ?? undefined;
    },
    writeVerdict: (record) => control.setGuardVerdict(record),
    async readIncident(): Promise<GuardIncident | undefined> {
      return (await read()).incident ?? undefined;
    },
    writeIncident: (incident) => control.setGuardIncident(incident),
  };
}

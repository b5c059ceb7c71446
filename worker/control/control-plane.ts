import type { AdminCommand } from '../../src/admin/lifecycle';
import type { GuardVerdictRecord } from '../../src/guard/analyze-canary';
import type { GuardIncident } from '../../src/guard/handle-breach';
import type { ProbeStreaks } from '../../src/guard/origin-probes';
import type { Logger } from '../../src/ports';
import type {
  AuditPage,
  AuthLimits,
  ControlCommand,
  ControlFailure,
  ControlOptions,
  ControlResult,
  ControlState,
  ControlDefaults,
  RolloutControl,
} from './rollout-control';

export type {
  AuditPage,
  ControlCommand,
  ControlDefaults,
  ControlFailure,
  ControlOptions,
  ControlResult,
  ControlState,
};
export type { AdminCommand };

/** The name of the one control-plane object of this Worker's rollout. */
export const CONTROL_OBJECT_NAME = 'rollout';

/**
 * The Worker's side of the control plane: every call goes to the one Durable Object. A call
 * that cannot reach it (the object is overloaded, or being reset) answers 503 with nothing
 * changed, never a 500.
 */
export interface ControlPlane {
  command(command: ControlCommand, options: ControlOptions): Promise<ControlResult>;
  state(): Promise<ControlState | ControlFailure>;
  audit(limit: number, cursor: string | undefined): Promise<AuditPage | ControlFailure>;
  guardState(): Promise<
    { verdict: GuardVerdictRecord | null; incident: GuardIncident | null } | ControlFailure
  >;
  setGuardVerdict(record: GuardVerdictRecord): Promise<void>;
  setGuardIncident(incident: GuardIncident): Promise<void>;
  /** The uptime probes' streaks; null when none or the object is unreachable. */
  probeStreaks(): Promise<ProbeStreaks | null>;
  setProbeStreaks(streaks: ProbeStreaks): Promise<void>;
  /** Seconds `address` must wait before authenticating again; 0 when the object is unreachable. */
  authRetryAfter(address: string, now: number, limits: AuthLimits): Promise<number>;
  recordAuthFailure(address: string, now: number, limits: AuthLimits): Promise<void>;
}

/**
 * The control plane of the rollout named `name` (one object per rollout).
 *
 * @example
 * const control = controlPlaneFor(env.CONTROL, settings, logger);
 * const result = await control.command({ type: 'abort', reason: 'p95' }, { actor: 'guard', now: Date.now() });
 */
export function controlPlaneFor(
  namespace: DurableObjectNamespace<RolloutControl>,
  defaults: ControlDefaults,
  logger: Logger,
  name = CONTROL_OBJECT_NAME,
): ControlPlane {
  // Only these vars travel with each call (not secrets).
  const vars: ControlDefaults = {
    STABLE_ORIGIN: defaults.STABLE_ORIGIN,
    CANARY_ORIGIN: defaults.CANARY_ORIGIN,
    DEFAULT_FLAGS: defaults.DEFAULT_FLAGS,
  };
  // A stub is cheap and may break after an error; a fresh one per call recovers by itself.
  const stub = () => namespace.get(namespace.idFromName(name));
  async function call<T>(what: string, run: () => Promise<T>, fallback: () => T): Promise<T> {
    try {
      return await run();
    } catch (error) {
      logger.error(`control plane unreachable: ${what}`, {
        error: String((error as Error)?.message ?? error),
      });
      return fallback();
    }
  }
  const unavailable = (): ControlFailure => ({
    ok: false,
    status: 503,
    error: 'the control plane is unavailable; nothing changed',
    retryAfterSeconds: 5,
  });
  return {
    command: (command, options) =>
      call('command', () => stub().command(command, options, vars) as Promise<ControlResult>, unavailable),
    state: () =>
      call('state', () => stub().state(vars) as Promise<ControlState | ControlFailure>, unavailable),
    audit: (limit, cursor) =>
      call(
        'audit',
        () => stub().audit(limit, cursor, vars) as Promise<AuditPage | ControlFailure>,
        unavailable,
      ),
    guardState: () =>
      call<{ verdict: GuardVerdictRecord | null; incident: GuardIncident | null } | ControlFailure>(
        'guard state',
        () =>
          stub().guardState() as Promise<{
            verdict: GuardVerdictRecord | null;
            incident: GuardIncident | null;
          }>,
        unavailable,
      ),
    setGuardVerdict: (record) =>
      call(
        'guard verdict',
        () => stub().setGuardVerdict(record),
        () => undefined,
      ),
    setGuardIncident: (incident) =>
      call(
        'guard incident',
        () => stub().setGuardIncident(incident),
        () => undefined,
      ),
    probeStreaks: () =>
      call(
        'probe streaks',
        () => stub().probeStreaks() as Promise<ProbeStreaks | null>,
        () => null,
      ),
    setProbeStreaks: (streaks) =>
      call(
        'probe streaks',
        () => stub().setProbeStreaks(streaks),
        () => undefined,
      ),
    // Failing open here keeps ops able to act when the object is down; the token still decides.
    authRetryAfter: (address, now, limits) =>
      call(
        'auth throttle',
        () => stub().authRetryAfter(address, now, limits),
        () => 0,
      ),
    recordAuthFailure: (address, now, limits) =>
      call(
        'auth throttle',
        () => stub().recordAuthFailure(address, now, limits),
        () => undefined,
      ),
  };
}

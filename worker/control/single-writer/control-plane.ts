import type { AdminCommand } from '../../../src/admin/lifecycle';
import type { GuardVerdictRecord } from '../../../src/guard/analyze-canary';
import type { GuardIncident } from '../../../src/guard/handle-breach';
import type { ProbeStreaks } from '../../../src/guard/origin-probes';
import type { Logger } from '../../../src/ports';

import type { AuditEntry } from '../../../src/admin/history-and-audit';
import type { ControlCommand } from '../../../src/admin/apply-command';
import type { CommittedValue, HeadMessage } from '../../../src/config/committed-version';
import type { RolloutConfig } from '../../../src/config/config-schema';
import type { Settings } from '../../../src/config/settings';
import type { ReplicaStatus } from './kv-replica';
import type { RolloutControl } from './rollout-control';

export type { ControlCommand, ReplicaStatus };
export type { AdminCommand };

/** Who asks, on which version, and when (the caller's clock stamps audit entries and steps). */
export interface ControlOptions {
  /** `token`, `token:<label>`, an Access email, or `guard`. */
  actor: string;
  /** The version the caller saw; another current version answers 412. */
  ifMatch?: number;
  reason?: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** Answer what the write would do, and change nothing. */
  dryRun?: boolean;
}

/**
 * The Worker's vars that a version is built from: the origins (finalize, the first version) and
 * the default flags (the first version). Sent with each call, so the object needs no vars.
 */
export type ControlDefaults = Pick<Settings, 'STABLE_ORIGIN' | 'CANARY_ORIGIN' | 'DEFAULT_FLAGS'>;

/** A refused write, ready to become an HTTP answer. */
export interface ControlFailure {
  ok: false;
  status: 400 | 409 | 412 | 503;
  error: string;
  issues?: string[];
  retryAfterSeconds?: number;
}

/** An accepted (or, with dryRun, previewed) write. */
export interface ControlSuccess {
  ok: true;
  /** False when the write would change nothing: version and audit stay as they were. */
  changed: boolean;
  dryRun: boolean;
  version: number;
  config: RolloutConfig;
  previous: RolloutConfig;
  /** The API kill switch after the write (null: none). */
  kill: string | null;
  previousKill: string | null;
  replica: ReplicaStatus;
}

export type ControlResult = ControlSuccess | ControlFailure;

/** What `GET /state` needs from the object. */
export interface ControlState {
  version: number;
  config: RolloutConfig;
  kill: string | null;
  verdict: GuardVerdictRecord | null;
  incident: GuardIncident | null;
  replica: ReplicaStatus;
}

/** One page of the audit log, newest first; `cursor` fetches the next (null on the last). */
export interface AuditPage {
  entries: AuditEntry[];
  cursor: string | null;
}

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
  /** Reads the KV replica back and repairs it when it differs; resolves when done (never throws). */
  checkReplica(): Promise<void>;
  /** The committed head, from the object's memory (the edge's head refresh). */
  head(): Promise<HeadMessage | ControlFailure>;
  /** The committed value of the current version, from the object's memory. */
  committed(): Promise<CommittedValue | ControlFailure>;
  audit(limit: number, cursor: string | undefined): Promise<AuditPage | ControlFailure>;
  /** Appends an audit entry that makes no version (an override link created). */
  recordAudit(
    entry: Pick<AuditEntry, 'action' | 'before' | 'after' | 'reason'>,
    options: Pick<ControlOptions, 'actor' | 'now'>,
  ): Promise<{ ok: true; id: string; version: number } | ControlFailure>;
  guardState(): Promise<
    { verdict: GuardVerdictRecord | null; incident: GuardIncident | null } | ControlFailure
  >;
  setGuardVerdict(record: GuardVerdictRecord): Promise<void>;
  setGuardIncident(incident: GuardIncident): Promise<void>;
  /** The uptime probes' streaks; null when none or the object is unreachable. */
  probeStreaks(): Promise<ProbeStreaks | null>;
  setProbeStreaks(streaks: ProbeStreaks): Promise<void>;
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
    checkReplica: () =>
      call(
        'replica check',
        () => stub().checkReplica(vars),
        () => undefined,
      ),
    head: () => call('head', () => stub().head(vars) as Promise<HeadMessage | ControlFailure>, unavailable),
    committed: () =>
      call(
        'committed',
        () => stub().committed(vars) as Promise<CommittedValue | ControlFailure>,
        unavailable,
      ),
    audit: (limit, cursor) =>
      call(
        'audit',
        () => stub().audit(limit, cursor, vars) as Promise<AuditPage | ControlFailure>,
        unavailable,
      ),
    recordAudit: (entry, options) =>
      call(
        'audit entry',
        () =>
          stub().recordAudit(entry, options, vars) as Promise<
            { ok: true; id: string; version: number } | ControlFailure
          >,
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
  };
}

import { DurableObject } from 'cloudflare:workers';
import * as z from 'zod/mini';
import { stepVersion, type ControlCommand } from '../../../src/admin/apply-command';
import { randomText, type AuditEntry } from '../../../src/admin/history-and-audit';
import type { CommittedValue, HeadMessage } from '../../../src/config/committed-version';
import { parseJsonText } from '../../../src/config/parse-config';
import { GuardVerdictRecordSchema, type GuardVerdictRecord } from '../../../src/guard/analyze-canary';
import { GUARD_INCIDENT_KEY, GUARD_VERDICT_KEY } from '../../../src/guard/guard-ports';
import { GuardIncidentSchema, type GuardIncident } from '../../../src/guard/handle-breach';
import { ProbeStreaksSchema, type ProbeStreaks } from '../../../src/guard/origin-probes';
import { ControlTables, type VersionRow } from './control-tables';
import { KvReplica } from './kv-replica';
import { readLegacyState } from './legacy-import';

import type {
  AuditPage,
  ControlDefaults,
  ControlFailure,
  ControlOptions,
  ControlResult,
  ControlState,
  ControlSuccess,
} from './control-plane';

const PROBE_STREAKS_KEY = 'guard:probes';
/** Meta keys: this control plane's creation time (its epoch) and when the current version was committed. */
const EPOCH_KEY = 'epoch';
const COMMITTED_AT_KEY = 'committed_at';
/** When the alarm checks that KV holds what was just committed. */
const REPLICA_RECHECK_MS = 1000;

/**
 * The control plane: one SQLite-backed Durable Object per rollout is the single writer of
 * everything that changes what visitors get. Each write (admin routes, CLI, guard, kill, undo)
 * runs synchronously in one storage transaction: read the current version, compare `If-Match`,
 * apply the pure command, store the history row and the audit entry, commit. No lock lives in an
 * isolate and no write reads KV, so two writers in two locations can never both win.
 *
 * KV is the read replica that the splitter reads: after each commit the object writes `config`,
 * `committed` and `kill:api`, reads them back, and retries from an alarm until KV holds the
 * committed version. KV `kill` is the hand-edited emergency switch; the object never writes it.
 *
 * The current version is also kept in memory, with its epoch (this object's creation time), so
 * the edge's head refresh (`head()`, every few seconds per location) costs no storage read.
 */
export class RolloutControl extends DurableObject<ControlEnv> {
  private readonly tables: ControlTables;
  /** The KV read replica; its `kv` is a field so fault tests can wrap it. */
  readonly replica: KvReplica;
  private started = false;
  /** The committed value of the current version, from memory; rebuilt after each commit. */
  private memo: CommittedValue | undefined;

  constructor(ctx: DurableObjectState, env: ControlEnv) {
    super(ctx, env);
    this.tables = new ControlTables(ctx.storage.sql);
    this.replica = new KvReplica(this.tables, ctx.storage, env.ROLLOUT, () => this.committedValue());
  }

  /** Reads the KV replica back now and repairs it when it differs (GET /state saw a drift). */
  async checkReplica(defaults: ControlDefaults): Promise<void> {
    const started = await this.start(defaults);
    if (started.ok) await this.replica.catchUp();
  }

  /** The committed head (epoch, version, API kill, commit time), answered from memory. */
  async head(defaults: ControlDefaults): Promise<HeadMessage | ControlFailure> {
    const started = await this.start(defaults);
    if (!started.ok) return started;
    try {
      const { config: _config, ...head } = this.committedValue();
      return head;
    } catch (error) {
      return storageFailure(error);
    }
  }

  /** The whole committed value of the current version, from memory. */
  async committed(defaults: ControlDefaults): Promise<CommittedValue | ControlFailure> {
    const started = await this.start(defaults);
    if (!started.ok) return started;
    try {
      return this.committedValue();
    } catch (error) {
      return storageFailure(error);
    }
  }

  private committedValue(): CommittedValue {
    if (this.memo) return this.memo;
    const row = this.currentRow();
    this.memo = {
      epoch: Number(this.tables.meta(EPOCH_KEY) ?? 0),
      version: row.version,
      kill: row.kill,
      committedAt: Number(this.tables.meta(COMMITTED_AT_KEY) ?? 0),
      config: row.config,
    };
    return this.memo;
  }

  /** Runs one write. Never throws: storage failures answer 503 and change nothing. */
  async command(
    command: ControlCommand,
    options: ControlOptions,
    defaults: ControlDefaults,
  ): Promise<ControlResult> {
    const started = await this.start(defaults);
    if (!started.ok) return started;
    let result: ControlResult;
    try {
      result = this.ctx.storage.transactionSync(() => this.commit(command, options, defaults));
    } catch (error) {
      this.memo = undefined;
      return storageFailure(error);
    }
    if (!result.ok || !result.changed || result.dryRun) return result;
    // The write is committed whatever happens next: from here on, a failure may only leave the
    // replica lagging (reported), never turn the answer into "nothing changed".
    try {
      // Set before writing KV, so a reset of the object mid-write still leaves a retry behind.
      await this.ctx.storage.setAlarm(Date.now() + REPLICA_RECHECK_MS);
      return { ...result, replica: await this.replica.catchUp() };
    } catch (error) {
      console.error(
        JSON.stringify({ level: 'error', message: 'replica write failed', error: String(error) }),
      );
      return { ...result, replica: this.replica.status() };
    }
  }

  /**
   * Appends an audit entry for something that is not a new version (an override link was
   * created): one storage write, at the current version, changing nothing visitors get.
   */
  async recordAudit(
    entry: Pick<AuditEntry, 'action' | 'before' | 'after' | 'reason'>,
    options: Pick<ControlOptions, 'actor' | 'now'>,
    defaults: ControlDefaults,
  ): Promise<{ ok: true; id: string; version: number } | ControlFailure> {
    const started = await this.start(defaults);
    if (!started.ok) return started;
    try {
      const version = this.currentRow().version;
      const id = `${version}-${randomText(6)}`;
      this.tables.appendAudit({
        id,
        at: new Date(options.now).toISOString(),
        actor: options.actor,
        action: entry.action,
        before: entry.before,
        after: entry.after,
        version,
        ...(entry.reason ? { reason: entry.reason } : {}),
      });
      return { ok: true, id, version };
    } catch (error) {
      return storageFailure(error);
    }
  }

  /** The current version, the API kill switch, the guard's state and the replica's. */
  async state(defaults: ControlDefaults): Promise<ControlState | ControlFailure> {
    const started = await this.start(defaults);
    if (!started.ok) return started;
    try {
      const row = this.currentRow();
      return {
        version: row.version,
        config: row.config,
        kill: row.kill,
        verdict: this.readJson(GUARD_VERDICT_KEY, GuardVerdictRecordSchema),
        incident: this.readJson(GUARD_INCIDENT_KEY, GuardIncidentSchema),
        replica: this.replica.status(),
      };
    } catch (error) {
      return storageFailure(error);
    }
  }

  /** One page of the audit log, newest first; `cursor` is the last page's. */
  async audit(
    limit: number,
    cursor: string | undefined,
    defaults: ControlDefaults,
  ): Promise<AuditPage | ControlFailure> {
    const started = await this.start(defaults);
    if (!started.ok) return started;
    if (cursor !== undefined && !/^\d{1,15}$/.test(cursor))
      return { ok: false, status: 400, error: 'invalid or expired cursor' };
    try {
      const page = this.tables.auditPage(limit, cursor === undefined ? undefined : Number(cursor));
      return { entries: page.entries.map((text) => JSON.parse(text) as AuditEntry), cursor: page.cursor };
    } catch (error) {
      return storageFailure(error);
    }
  }

  /** The guard's verdict and open incident (null when none). */
  async guardState(): Promise<{ verdict: GuardVerdictRecord | null; incident: GuardIncident | null }> {
    return {
      verdict: this.readJson(GUARD_VERDICT_KEY, GuardVerdictRecordSchema),
      incident: this.readJson(GUARD_INCIDENT_KEY, GuardIncidentSchema),
    };
  }

  async setGuardVerdict(record: GuardVerdictRecord): Promise<void> {
    this.tables.setMeta(GUARD_VERDICT_KEY, JSON.stringify(record));
  }

  async setGuardIncident(incident: GuardIncident): Promise<void> {
    this.tables.setMeta(GUARD_INCIDENT_KEY, JSON.stringify(incident));
  }

  /** The uptime probes' streaks (null before the first probe run). */
  async probeStreaks(): Promise<ProbeStreaks | null> {
    return this.readJson(PROBE_STREAKS_KEY, ProbeStreaksSchema);
  }

  async setProbeStreaks(streaks: ProbeStreaks): Promise<void> {
    this.tables.setMeta(PROBE_STREAKS_KEY, JSON.stringify(streaks));
  }

  /** Reads the KV replica back and repairs it, retried (backing off) until KV holds the committed version. */
  override async alarm(): Promise<void> {
    // Only while the last read-back (or write) left it behind: a drift nobody caused through this
    // object is found by GET /state, which reads KV itself and calls checkReplica.
    if (this.replica.status().lagging) await this.replica.catchUp();
  }

  private commit(command: ControlCommand, options: ControlOptions, defaults: ControlDefaults): ControlResult {
    const current = this.currentRow();
    if (options.ifMatch !== undefined && options.ifMatch !== current.version)
      return {
        ok: false,
        status: 412,
        error: `If-Match ${options.ifMatch} is not the current version ${current.version}`,
      };
    const target =
      command.type === 'undo' && current.base !== null ? this.tables.row(current.base) : undefined;
    const step = stepVersion(current, command, {
      now: options.now,
      newSalt: () => randomText(16),
      origins: { stable: defaults.STABLE_ORIGIN, canary: defaults.CANARY_ORIGIN },
      undoTarget: target?.config,
      undoKill: target?.kill ?? null,
    });
    if (!step.ok) return step;
    const base = command.type === 'undo' ? (target?.base ?? null) : current.version;
    const unchanged = !step.changed;
    const next: VersionRow = unchanged
      ? current
      : { version: step.config.version, config: step.config, kill: step.kill, base };
    const result: ControlSuccess = {
      ok: true,
      changed: step.changed,
      dryRun: options.dryRun === true,
      version: next.version,
      config: unchanged ? current.config : step.config,
      previous: current.config,
      kill: next.kill,
      previousKill: current.kill,
      replica: this.replica.status(),
    };
    if (unchanged || options.dryRun) return result;
    this.tables.commit(next);
    this.tables.setMeta(COMMITTED_AT_KEY, String(options.now));
    this.memo = undefined;
    const isKill =
      command.type === 'kill' ||
      command.type === 'unkill' ||
      command.type === 'bypass' ||
      command.type === 'unbypass';
    const reason = options.reason ?? (command.type === 'abort' ? command.reason : undefined);
    this.tables.appendAudit({
      id: `${next.version}-${randomText(6)}`,
      at: new Date(options.now).toISOString(),
      actor: options.actor,
      action: command.type,
      // An undo can bring back another API kill switch: the entry shows it beside the config.
      before: isKill
        ? { kill: current.kill }
        : withKill(current.config, current.kill, next.kill !== current.kill),
      after: isKill ? { kill: next.kill } : withKill(next.config, next.kill, next.kill !== current.kill),
      version: next.version,
      ...(reason ? { reason } : {}),
    });
    return { ...result, replica: this.replica.status() };
  }

  private currentRow(): VersionRow {
    const version = this.tables.currentVersion();
    const row = version === undefined ? undefined : this.tables.row(version);
    if (!row) throw new Error(`control plane: version ${version} has no history row`);
    return row;
  }

  /**
   * Makes sure the object holds a version. On the very first call it imports what an earlier
   * KV-only deployment left (config, history, audit), once; with nothing to import it starts
   * from the initial config at version 0. KV unreadable then: 503, nothing is made up.
   */
  private async start(defaults: ControlDefaults): Promise<{ ok: true } | ControlFailure> {
    if (this.started) return { ok: true };
    let failure: ControlFailure | undefined;
    try {
      await this.ctx.blockConcurrencyWhile(async () => {
        // The epoch is this control plane's creation (or first start of this build): a control
        // plane created again starts from version 0 under a later epoch, and edges follow it.
        if (this.tables.meta(EPOCH_KEY) === undefined) this.tables.setMeta(EPOCH_KEY, String(Date.now()));
        if (this.tables.currentVersion() !== undefined) return;
        try {
          const legacy = await readLegacyState(this.env.ROLLOUT, defaults);
          this.ctx.storage.transactionSync(() => {
            for (const row of legacy.rows) this.tables.commit(row);
            for (const entry of legacy.audit) this.tables.appendAudit(entry);
            this.tables.setMeta('replica', JSON.stringify(legacy.replica));
          });
        } catch (error) {
          failure = {
            ok: false,
            status: 503,
            error: 'the control plane could not start (KV or storage unavailable); nothing changed',
            retryAfterSeconds: 5,
          };
          console.error(JSON.stringify({ level: 'error', message: failure.error, error: String(error) }));
        }
      });
    } catch (error) {
      return storageFailure(error);
    }
    if (failure) return failure;
    this.started = true;
    // The replica is read back soon after a start: an import may have left it behind.
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + REPLICA_RECHECK_MS);
    return { ok: true };
  }

  private readJson<T>(key: string, schema: z.ZodMiniType<T>): T | null {
    const text = this.tables.meta(key);
    if (text === undefined) return null;
    const parsed = parseJsonText(text, schema);
    return parsed.ok ? parsed.value : null;
  }
}

function storageFailure(error: unknown): ControlFailure {
  console.error(
    JSON.stringify({ level: 'error', message: 'control plane storage failed', error: String(error) }),
  );
  return {
    ok: false,
    status: 503,
    error: 'the control plane storage failed; nothing changed',
    retryAfterSeconds: 5,
  };
}

function withKill(config: object, kill: string | null, show: boolean): object {
  return show ? { ...config, kill } : config;
}

import * as z from 'zod/mini';
import {
  COMMITTED_KEY,
  parseCommittedValue,
  type CommittedValue,
} from '../../../src/config/committed-version';
import { API_KILL_SWITCH_KEY, CONFIG_KEY, parseConfig } from '../../../src/config/config-schema';
import { parseJsonText } from '../../../src/config/parse-config';
import type { ControlTables } from './control-tables';

/** The KV read replica, as last read back from KV (not as the object last wrote it). */
export interface ReplicaStatus {
  /** The version the object committed last. */
  committedVersion: number;
  /** The version KV held when last read back, or null (none, invalid, never checked). */
  replicatedVersion: number | null;
  /** True until a read-back finds the committed version, its `kill:api` and its `committed` value in KV. */
  lagging: boolean;
  /** Failed attempts since the replica last matched; retried from an alarm. */
  failedAttempts: number;
  lastError?: string;
  /** When KV was last read back (ms), or absent before the first check. */
  checkedAt?: number;
  /** When the committed version was committed (ms). */
  committedAt?: number;
}

const MAX_REPLICA_BACKOFF_MS = 60_000;

const ReplicaMetaSchema = z.object({
  version: z.nullable(z.int()),
  kill: z.optional(z.nullable(z.string())),
  failedAttempts: z.int(),
  lastError: z.optional(z.string()),
  lagging: z.optional(z.boolean()),
  checkedAt: z.optional(z.int()),
});
type ReplicaMeta = z.infer<typeof ReplicaMetaSchema>;

/** What a read-back found, against the committed value. */
interface ReadBack {
  version: number | null;
  matches: boolean;
}

/**
 * KV as the read replica of the control plane. After each commit the object writes the API kill
 * switch (`kill:api`), the committed value (`committed`: config + API kill + epoch, what this
 * build's edge reads) and `config` (what an edge one version back reads). It then reads them
 * back: the replica is in step only when KV holds the committed version, not when the object
 * believes it wrote it. A write KV refuses (about one write per second per key, outages), a
 * value edited or deleted by hand, or a read-back that disagrees leaves the replica lagging and
 * the alarm tries again (1 s, 2 s, 4 s … up to a minute). A drift nobody wrote (a hand edit) is
 * seen by the next `GET /state`, which reads KV itself and asks for this check
 * (`checkReplica`); from there the alarm repairs it like a refused write.
 *
 * In production a read-back sees this location's KV cache, so a repair can take up to KV's
 * `cacheTtl` (60 s) plus one check.
 */
export class KvReplica {
  private running: Promise<ReplicaStatus> | undefined;

  constructor(
    private readonly tables: ControlTables,
    private readonly storage: DurableObjectStorage,
    /** The namespace written to; tests wrap it to inject failures. */
    public kv: KVNamespace,
    /** The committed value of the current version (the object keeps it in memory). */
    private readonly committed: () => CommittedValue,
  ) {}

  private meta(): ReplicaMeta {
    const parsed = parseJsonText(this.tables.meta('replica') ?? 'null', ReplicaMetaSchema);
    return parsed.ok ? parsed.value : { version: null, failedAttempts: 0 };
  }

  /** Where the replica stood at its last read-back, against the committed version. */
  status(): ReplicaStatus {
    const meta = this.meta();
    const value = this.committed();
    return {
      committedVersion: value.version,
      replicatedVersion: meta.version,
      // Before any read-back (an import) only a version mismatch is known.
      lagging: meta.lagging ?? meta.version !== value.version,
      failedAttempts: meta.failedAttempts,
      ...(meta.lastError ? { lastError: meta.lastError } : {}),
      ...(meta.checkedAt !== undefined ? { checkedAt: meta.checkedAt } : {}),
      committedAt: value.committedAt,
    };
  }

  /**
   * Reads KV back and, when it differs from the committed version, writes it and reads it back
   * again. One round runs at a time. While KV differs, sets the alarm to try again (backing off
   * to a minute). Never throws.
   */
  async catchUp(): Promise<ReplicaStatus> {
    // A commit made while a round runs is picked up by the next round (at most three here; the
    // alarm takes over after that), so KV never ends on an older version than the object holds.
    let status = this.status();
    for (let round = 0; round < 3; round++) {
      const target = this.committed().version;
      this.running ??= this.round().finally(() => {
        this.running = undefined;
      });
      status = await this.running;
      if (this.committed().version === target) break;
    }
    return status;
  }

  private async round(): Promise<ReplicaStatus> {
    const value = this.committed();
    let error: string | undefined;
    let seen: ReadBack = { version: null, matches: false };
    try {
      seen = await this.readBack(value);
      if (!seen.matches) {
        await this.write(value);
        seen = await this.readBack(value);
      }
    } catch (caught) {
      error = String((caught as Error)?.message ?? caught).slice(0, 200);
    }
    const previous = this.meta();
    const failedAttempts = seen.matches ? 0 : previous.failedAttempts + 1;
    const meta: ReplicaMeta = {
      version: error === undefined ? seen.version : previous.version,
      failedAttempts,
      lagging: !seen.matches,
      checkedAt: Date.now(),
      ...(error !== undefined ? { lastError: error } : {}),
    };
    this.tables.setMeta('replica', JSON.stringify(meta));
    if (!seen.matches) {
      const delay = Math.min(MAX_REPLICA_BACKOFF_MS, 1000 * 2 ** Math.min(failedAttempts - 1, 6));
      try {
        const alarm = await this.storage.getAlarm();
        if (alarm === null || alarm > Date.now() + delay) await this.storage.setAlarm(Date.now() + delay);
      } catch {
        // The storage failed too: the next commit or state read sets it again.
      }
    }
    return this.status();
  }

  private async readBack(value: CommittedValue): Promise<ReadBack> {
    const kv = await this.kv.get([CONFIG_KEY, API_KILL_SWITCH_KEY, COMMITTED_KEY], 'text');
    const configText = kv.get(CONFIG_KEY) ?? null;
    const config = configText === null ? undefined : parseConfig(configText);
    const committedText = kv.get(COMMITTED_KEY) ?? null;
    const committed = committedText === null ? undefined : parseCommittedValue(committedText);
    const version = config?.ok ? config.config.version : null;
    // Version 0 untouched (no write yet): an empty KV means the same, the edge's safe default.
    if (value.version === 0 && configText === null && committedText === null && value.kill === null)
      return { version: null, matches: true };
    const matches =
      version === value.version &&
      (kv.get(API_KILL_SWITCH_KEY) ?? null) === value.kill &&
      committed?.ok === true &&
      committed.value.epoch === value.epoch &&
      committed.value.version === value.version;
    return { version, matches };
  }

  private async write(value: CommittedValue): Promise<void> {
    // The kill switch first: stopping the canary is the most urgent thing a write can carry.
    await (value.kill === null
      ? this.kv.delete(API_KILL_SWITCH_KEY)
      : this.kv.put(API_KILL_SWITCH_KEY, value.kill));
    await this.kv.put(COMMITTED_KEY, JSON.stringify(value));
    await this.kv.put(CONFIG_KEY, JSON.stringify(value.config));
  }
}

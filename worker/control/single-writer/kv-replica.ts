import * as z from 'zod/mini';
import { API_KILL_SWITCH_KEY, CONFIG_KEY } from '../../../src/config/config-schema';
import { parseJsonText } from '../../../src/config/parse-config';
import type { ControlTables } from './control-tables';

/** The KV read replica as the object last wrote it. */
export interface ReplicaStatus {
  /** The version the object committed last. */
  committedVersion: number;
  /** The version the object last wrote to KV, or null before the first write. */
  replicatedVersion: number | null;
  lagging: boolean;
  /** Failed attempts since the last successful write; retried from an alarm. */
  failedAttempts: number;
  lastError?: string;
}

const MAX_REPLICA_BACKOFF_MS = 60_000;

const ReplicaMetaSchema = z.object({
  version: z.nullable(z.int()),
  kill: z.nullable(z.string()),
  failedAttempts: z.int(),
  lastError: z.optional(z.string()),
});
type ReplicaMeta = z.infer<typeof ReplicaMetaSchema>;

/**
 * KV as the read replica of the control plane: after each commit the object writes the API kill
 * switch (`kill:api`) and then `config`. KV accepts about one write per second per key and has
 * outages, so a failed write leaves the replica lagging and sets the object's alarm, which tries
 * again (1 s, 2 s, 4 s … up to a minute) until KV holds the committed version. What was last
 * written is kept in the object's `meta` table, so a restart keeps counting.
 */
export class KvReplica {
  private writing: Promise<boolean> | undefined;

  constructor(
    private readonly tables: ControlTables,
    private readonly storage: DurableObjectStorage,
    /** The namespace written to; tests wrap it to inject failures. */
    public kv: KVNamespace,
  ) {}

  private meta(): ReplicaMeta {
    const parsed = parseJsonText(this.tables.meta('replica') ?? 'null', ReplicaMetaSchema);
    return parsed.ok ? parsed.value : { version: null, kill: null, failedAttempts: 0 };
  }

  /** Where the replica stands against the committed version. */
  status(): ReplicaStatus {
    const meta = this.meta();
    const committedVersion = this.tables.currentVersion() ?? 0;
    return {
      committedVersion,
      replicatedVersion: meta.version,
      lagging: meta.version !== committedVersion,
      failedAttempts: meta.failedAttempts,
      ...(meta.lastError ? { lastError: meta.lastError } : {}),
    };
  }

  /**
   * Brings KV up to the committed version. One write runs at a time and always writes the
   * version current when it starts, so KV never goes back to an older one; a commit made during
   * a write is picked up by the next round. A failure schedules the alarm (backing off to a
   * minute) and the caller's answer says the replica lags.
   */
  async catchUp(): Promise<ReplicaStatus> {
    for (let round = 0; round < 3 && this.status().lagging; round++) {
      this.writing ??= this.writeOnce().finally(() => {
        this.writing = undefined;
      });
      if (!(await this.writing)) break;
    }
    return this.status();
  }

  private async writeOnce(): Promise<boolean> {
    const row = this.tables.row(this.tables.currentVersion() ?? 0);
    if (!row) return false;
    const meta = this.meta();
    try {
      // The kill switch first: stopping the canary is the most urgent thing a write can carry.
      if (row.kill !== meta.kill)
        await (row.kill === null
          ? this.kv.delete(API_KILL_SWITCH_KEY)
          : this.kv.put(API_KILL_SWITCH_KEY, row.kill));
      await this.kv.put(CONFIG_KEY, JSON.stringify(row.config));
      this.tables.setMeta(
        'replica',
        JSON.stringify({ version: row.version, kill: row.kill, failedAttempts: 0 }),
      );
      return true;
    } catch (error) {
      const failedAttempts = meta.failedAttempts + 1;
      const lastError = String((error as Error)?.message ?? error).slice(0, 200);
      this.tables.setMeta('replica', JSON.stringify({ ...meta, failedAttempts, lastError }));
      const delay = Math.min(MAX_REPLICA_BACKOFF_MS, 1000 * 2 ** Math.min(failedAttempts - 1, 6));
      await this.storage.setAlarm(Date.now() + delay);
      return false;
    }
  }
}

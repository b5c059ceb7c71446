import type { AuditEntry } from '../../../src/admin/history-and-audit';
import type { RolloutConfig } from '../../../src/config/config-schema';

/** History rows kept for undo; older versions are pruned (the current one never is). */
export const HISTORY_RETENTION = 1_000;
/** Audit entries kept; older ones are pruned, newest first pages stay as they were. */
export const AUDIT_RETENTION = 10_000;

/** One version of what visitors get: the config and the kill switch set through the API. */
export interface VersionRow {
  version: number;
  config: RolloutConfig;
  /** The API kill switch text, or null when none is set. */
  kill: string | null;
  /** The version `undo` goes back to from this one, or null when there is none. */
  base: number | null;
}

/**
 * The control plane's SQLite tables, read and written synchronously, so a caller that does its
 * reads and writes inside one `transactionSync` sees and leaves a consistent state.
 */
export class ControlTables {
  constructor(
    private readonly sql: SqlStorage,
    private readonly retention = { history: HISTORY_RETENTION, audit: AUDIT_RETENTION },
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(
      `CREATE TABLE IF NOT EXISTS history (version INTEGER PRIMARY KEY, config TEXT NOT NULL, kill TEXT, base INTEGER)`,
    );
    sql.exec(`CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)`);
    sql.exec(
      `CREATE TABLE IF NOT EXISTS auth_failures (address TEXT PRIMARY KEY, failures INTEGER NOT NULL, started_at INTEGER NOT NULL)`,
    );
  }

  meta(key: string): string | undefined {
    const row = this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray()[0];
    return row?.value;
  }

  setMeta(key: string, value: string | null): void {
    if (value === null) this.sql.exec(`DELETE FROM meta WHERE key = ?`, key);
    else this.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, key, value);
  }

  /** The current version's number, or undefined before the first start. */
  currentVersion(): number | undefined {
    const text = this.meta('version');
    return text === undefined ? undefined : Number(text);
  }

  row(version: number): VersionRow | undefined {
    const row = this.sql
      .exec<{ version: number; config: string; kill: string | null; base: number | null }>(
        `SELECT version, config, kill, base FROM history WHERE version = ?`,
        version,
      )
      .toArray()[0];
    if (!row) return undefined;
    return {
      version: row.version,
      config: JSON.parse(row.config) as RolloutConfig,
      kill: row.kill,
      base: row.base,
    };
  }

  /** Stores a version and makes it current; prunes history past its retention. */
  commit(row: VersionRow): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO history (version, config, kill, base) VALUES (?, ?, ?, ?)`,
      row.version,
      JSON.stringify(row.config),
      row.kill,
      row.base,
    );
    this.setMeta('version', String(row.version));
    this.sql.exec(`DELETE FROM history WHERE version <= ?`, row.version - this.retention.history);
  }

  appendAudit(entry: AuditEntry): void {
    this.sql.exec(`INSERT INTO audit (entry) VALUES (?)`, JSON.stringify(entry));
    this.sql.exec(`DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?`, this.retention.audit);
  }

  /** Audit entries newest first, `limit` at a time, strictly before `cursor` (a seq). */
  auditPage(limit: number, cursor: number | undefined): { entries: string[]; cursor: string | null } {
    const rows = this.sql
      .exec<{ seq: number; entry: string }>(
        `SELECT seq, entry FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
        cursor ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return { entries: page.map((row) => row.entry), cursor: more ? String(page.at(-1)!.seq) : null };
  }

  auditCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM audit`).one().n;
  }

  authFailures(address: string): { failures: number; startedAt: number } | undefined {
    const row = this.sql
      .exec<{ failures: number; started_at: number }>(
        `SELECT failures, started_at FROM auth_failures WHERE address = ?`,
        address,
      )
      .toArray()[0];
    return row ? { failures: row.failures, startedAt: row.started_at } : undefined;
  }

  setAuthFailures(address: string, failures: number, startedAt: number): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO auth_failures (address, failures, started_at) VALUES (?, ?, ?)`,
      address,
      failures,
      startedAt,
    );
  }

  /** Forgets windows that ended, so a flood of addresses cannot grow the table for long. */
  pruneAuthFailures(olderThan: number): void {
    this.sql.exec(`DELETE FROM auth_failures WHERE started_at < ?`, olderThan);
  }
}
